package dev.flowtracker.ingest.runtime;

import java.io.PrintStream;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * SIGTERM and SIGINT as an orderly stop that the command runs on its own threads, instead of the JVM's shutdown
 * sequence. Inside that sequence nothing may register a shutdown hook or start a thread: Chronicle Map does both
 * when a checkpoint is written, so a stop run from a shutdown hook lost every open connection while saying it had
 * checkpointed them. With these handlers installed a signal does not start the JVM's shutdown at all: the first one
 * runs {@code onStop} (on the JDK's signal-dispatch thread), the command finishes its work normally, and
 * {@link #exitStatus} gives the conventional status (128 + signal number) to exit with. A second signal while the
 * stop is under way halts at once with that status, as an operator pressing Ctrl-C twice expects.
 *
 * <p>The handlers go through {@code sun.misc.Signal} (module {@code jdk.unsupported}, kept in the container's
 * jlinked runtime) by reflection: a direct reference is a compiler warning this build treats as an error. When the
 * JVM refuses a handler (it runs with {@code -Xrs}, or the signal is reserved) the caller keeps a shutdown hook as
 * the fallback, and {@link #installed} says so.
 *
 * <p>Thread safety: {@link #install} and {@link #close} on the command's thread; the handlers run on signal
 * threads; {@link #signal} and {@link #exitStatus} from any thread.
 */
public final class StopSignals implements AutoCloseable
{
    /** The signals that stop a command. */
    private static final String[] NAMES = {"TERM", "INT"};

    private final AtomicInteger received = new AtomicInteger();
    private final List<Object[]> previous = new ArrayList<>(); // {Signal, previous SignalHandler}
    private final Runnable onStop;
    private final PrintStream err;
    private final String command;
    private Method handle;

    private StopSignals(final String command, final Runnable onStop, final PrintStream err)
    {
        this.command = command;
        this.onStop = onStop;
        this.err = err;
    }

    /**
     * Installs the handlers for SIGTERM and SIGINT.
     *
     * @param command names the command in the message of a second signal.
     * @param onStop  runs once, on the first signal: it should make the command's work end soon.
     */
    public static StopSignals install(final String command, final Runnable onStop, final PrintStream err)
    {
        final StopSignals signals = new StopSignals(command, onStop, err);
        signals.installHandlers();
        return signals;
    }

    /** Whether both handlers are in place (false: the JVM refused them; its shutdown sequence handles signals). */
    public boolean installed()
    {
        return previous.size() == NAMES.length;
    }

    /** The number of the first stop signal received, 0 for none. */
    public int signal()
    {
        return received.get();
    }

    /** 128 + the signal's number, as a shell reports a process a signal ended; {@code otherwise} when none came. */
    public int exitStatus(final int otherwise)
    {
        final int signal = received.get();
        return signal == 0 ? otherwise : 128 + signal;
    }

    /** Puts back the handlers that were there before (the JVM's own: a later signal shuts the JVM down). */
    @Override
    public void close()
    {
        for (final Object[] installed : previous)
        {
            try
            {
                handle.invoke(null, installed[0], installed[1]);
            }
            catch (final ReflectiveOperationException | RuntimeException e)
            {
                // the process is ending anyway
            }
        }
        previous.clear();
    }

    private void installHandlers()
    {
        try
        {
            final Class<?> signalClass = Class.forName("sun.misc.Signal");
            final Class<?> handlerClass = Class.forName("sun.misc.SignalHandler");
            final Method number = signalClass.getMethod("getNumber");
            handle = signalClass.getMethod("handle", signalClass, handlerClass);
            final Object handler = Proxy.newProxyInstance(StopSignals.class.getClassLoader(),
                new Class<?>[] {handlerClass}, (proxy, method, args) ->
                {
                    if ("handle".equals(method.getName()) && args != null && args.length == 1)
                    {
                        onSignal((Integer)number.invoke(args[0]));
                        return null;
                    }
                    return switch (method.getName())
                    {
                        case "hashCode" -> System.identityHashCode(proxy);
                        case "equals" -> proxy == args[0];
                        case "toString" -> "tracker stop handler";
                        default -> null;
                    };
                });
            for (final String name : NAMES)
            {
                final Object signal = signalClass.getConstructor(String.class).newInstance(name);
                try
                {
                    previous.add(new Object[] {signal, handle.invoke(null, signal, handler)});
                }
                catch (final ReflectiveOperationException e)
                {
                    // IllegalArgumentException inside: the JVM keeps this signal (-Xrs); the shutdown hook covers it
                }
            }
        }
        catch (final ReflectiveOperationException | RuntimeException | LinkageError e)
        {
            // no sun.misc.Signal in this runtime: the caller's shutdown hook covers the signals
        }
    }

    private void onSignal(final int number)
    {
        if (received.compareAndSet(0, number))
        {
            onStop.run();
            return;
        }
        err.println("tracker " + command + ": second stop signal; exiting at once, without finishing the stop");
        err.flush();
        Runtime.getRuntime().halt(128 + received.get());
    }
}
