package dev.flowtracker.ingest.checkpoint;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What Chronicle Map needs from the JVM, checked up front so that a daemon started without it says so in one
 * line at start rather than failing at its first checkpoint with an {@code InaccessibleObjectException}.
 *
 * <p>Measured on JDK 25 with Chronicle Map 2026.1 by dropping one option at a time: without any of the four
 * access options the first map creation throws; the other three only silence warnings on stderr (jffi's
 * native library load, its {@code sun.misc.Unsafe} use, and Chronicle's ByteBuffer cleaner). The launcher
 * ({@code bin/tracker}) and surefire's argLine pass {@link #JVM_OPTIONS}; a test keeps them in step.
 *
 * <p>Chronicle Map also compiles classes at run time with {@code javax.tools}, so it needs a full JDK (the
 * {@code jdk.compiler} module), not a JRE. Stateless; any thread.
 */
final class ChronicleRuntime
{
    /** Chronicle's usage analytics would phone home; this property turns them off (the jar is excluded too). */
    static final String ANALYTICS_PROPERTY = "chronicle.analytics.disable";

    /** Every JVM option a process that opens checkpoints should be started with. */
    static final List<String> JVM_OPTIONS = List.of(
        "--enable-native-access=ALL-UNNAMED",
        "--sun-misc-unsafe-memory-access=allow",
        "--add-opens=java.base/java.lang=ALL-UNNAMED",
        "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
        "--add-exports=java.base/sun.nio.ch=ALL-UNNAMED",
        "--add-exports=java.base/jdk.internal.ref=ALL-UNNAMED",
        "--add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED",
        "-D" + ANALYTICS_PROPERTY + "=true");

    private ChronicleRuntime()
    {
    }

    /**
     * Turns analytics off for this JVM unless the command line already decided: belt and braces for a JVM
     * started without the option. Must run before the first Chronicle class initialises, which reads it.
     */
    static void disableAnalytics()
    {
        if (System.getProperty(ANALYTICS_PROPERTY) == null)
        {
            System.setProperty(ANALYTICS_PROPERTY, "true");
        }
    }

    /** Why Chronicle Map cannot work in this JVM, or empty when it can. */
    static Optional<String> unavailabilityCause()
    {
        final Module unnamed = ChronicleRuntime.class.getModule();
        final Module base = Object.class.getModule();
        final List<String> missing = new ArrayList<>();
        if (!base.isOpen("java.lang", unnamed))
        {
            missing.add("--add-opens=java.base/java.lang=ALL-UNNAMED");
        }
        if (!base.isOpen("java.lang.reflect", unnamed))
        {
            missing.add("--add-opens=java.base/java.lang.reflect=ALL-UNNAMED");
        }
        if (!base.isExported("sun.nio.ch", unnamed))
        {
            missing.add("--add-exports=java.base/sun.nio.ch=ALL-UNNAMED");
        }
        final Optional<Module> compiler = ModuleLayer.boot().findModule("jdk.compiler");
        if (compiler.isEmpty())
        {
            return Optional.of("Chronicle Map needs a full JDK (module jdk.compiler), this runtime has none");
        }
        if (!compiler.get().isExported("com.sun.tools.javac.file", unnamed))
        {
            missing.add("--add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED");
        }
        return missing.isEmpty() ?
            Optional.empty() :
            Optional.of("Chronicle Map needs the JVM options " + String.join(" ", missing) +
                " (bin/tracker passes them; all of them: " + String.join(" ", JVM_OPTIONS) + ")");
    }
}
