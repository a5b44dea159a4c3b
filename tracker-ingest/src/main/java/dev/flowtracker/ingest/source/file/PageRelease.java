package dev.flowtracker.ingest.source.file;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * {@code madvise(MADV_DONTNEED)} bound with {@code java.lang.foreign}: drops pages of a file mapping from this
 * process's page tables. On a shared file mapping (what {@link java.nio.channels.FileChannel.MapMode#READ_ONLY}
 * makes) the data stays in the page cache and a later read faults the same bytes back in, so it only ever changes
 * resident memory, never what is read. A capability (Linux only, and native access must be allowed): when
 * {@link #isAvailable()} is false, {@link #unavailabilityCause()} says why. Bound on first use, so reading small
 * files never touches the linker. Stateless: any thread may call.
 */
final class PageRelease
{
    /** Linux's value on every architecture the project runs on (x86-64, AArch64, RISC-V 64). */
    static final int MADV_DONTNEED = 4;
    static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();

    private static final VarHandle ERRNO = CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));

    private PageRelease()
    {
    }

    static boolean isAvailable()
    {
        return Binding.MADVISE != null;
    }

    /** Why pages cannot be released here, or null when they can. */
    static String unavailabilityCause()
    {
        return Binding.CAUSE;
    }

    /**
     * Releases the pages of {@code range}, a page-aligned slice of a shared file mapping.
     *
     * @param callState {@link #CALL_STATE}-sized memory that receives errno.
     * @return 0, or the errno of a failure.
     */
    static int dontNeed(final MemorySegment range, final MemorySegment callState)
    {
        try
        {
            final int result = (int)Binding.MADVISE.invokeExact(callState, range, range.byteSize(), MADV_DONTNEED);
            return result == 0 ? 0 : (int)ERRNO.get(callState, 0L);
        }
        catch (final RuntimeException | Error e)
        {
            throw e;
        }
        catch (final Throwable e)
        {
            throw new AssertionError(e);
        }
    }

    /** Lazy holder: the binding is made the first time a file is large enough to need it. */
    private static final class Binding
    {
        static final MethodHandle MADVISE;
        static final String CAUSE;

        static
        {
            MethodHandle handle = null;
            String cause = null;
            final String os = System.getProperty("os.name", "");
            if (!os.startsWith("Linux"))
            {
                cause = "not Linux (" + os + ")";
            }
            else
            {
                try
                {
                    handle = bind();
                }
                catch (final RuntimeException | LinkageError e)
                {
                    // e.g. IllegalCallerException under --illegal-native-access=deny
                    cause = "madvise cannot be bound: " + e;
                }
            }
            MADVISE = handle;
            CAUSE = cause;
        }

        @SuppressWarnings("restricted")
        private static MethodHandle bind()
        {
            final Linker linker = Linker.nativeLinker();
            final MemorySegment symbol = linker.defaultLookup().find("madvise")
                .orElseThrow(() -> new UnsatisfiedLinkError("the C library has no madvise()"));
            return linker.downcallHandle(symbol, FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT),
                Linker.Option.captureCallState("errno"));
        }
    }
}
