package dev.flowtracker.core.flow;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

/**
 * Off-heap memory for a flow table's record chunks. Where it can, anonymous {@code mmap} memory: zero without being
 * written (an {@link Arena} writes every byte at allocation) and so committed page by page only as records are
 * first used, and, for a table that has grown past its first chunk, advised into transparent huge pages
 * ({@code MADV_HUGEPAGE}): first touch of memory is what a table that keeps growing pays most for (measured on a
 * 2-core VM: 3 ms per MiB in 4 KiB pages, 1.9 ms in 2 MiB pages). The mapping is released when the segment becomes
 * unreachable. Elsewhere (not Linux, native access denied) it falls back to {@link Arena#ofAuto()}.
 *
 * <p>Stateless: any thread may call.
 */
final class ChunkMemory
{
    static final long HUGE_PAGE = 2L << 20;
    private static final int PROT_READ_WRITE = 0x1 | 0x2;
    private static final int MAP_PRIVATE_ANONYMOUS = 0x02 | 0x20;
    private static final int MADV_HUGEPAGE = 14;

    private ChunkMemory()
    {
    }

    /** Whether chunks are mapped here (else they come from an {@link Arena}). */
    static boolean isMapped()
    {
        return Binding.MMAP != null;
    }

    /**
     * {@code bytes} of zeroed memory, aligned to 8 bytes at least.
     *
     * @param hugePages whether to ask for transparent huge pages (worth it for tables that grow large).
     */
    @SuppressWarnings("restricted") // the mapping's own size, and a cleaner that unmaps exactly it
    static MemorySegment allocate(final long bytes, final boolean hugePages)
    {
        if (Binding.MMAP == null)
        {
            return Arena.ofAuto().allocate(bytes, Long.BYTES);
        }
        // Mapped with a huge page to spare, so that the segment can start on a huge-page boundary.
        final long mapped = bytes + (hugePages ? HUGE_PAGE : 0);
        final MemorySegment mapping = map(mapped);
        if (mapping == null)
        {
            return Arena.ofAuto().allocate(bytes, Long.BYTES);
        }
        final long skip = hugePages ? (HUGE_PAGE - (mapping.address() & (HUGE_PAGE - 1))) & (HUGE_PAGE - 1) : 0;
        final MemorySegment chunk =
            mapping.reinterpret(mapped, Arena.ofAuto(), ChunkMemory::unmap).asSlice(skip, bytes);
        if (hugePages)
        {
            advise(chunk);
        }
        return chunk;
    }

    @SuppressWarnings("restricted")
    private static MemorySegment map(final long bytes)
    {
        try
        {
            final MemorySegment address = (MemorySegment)Binding.MMAP.invokeExact(
                MemorySegment.NULL, bytes, PROT_READ_WRITE, MAP_PRIVATE_ANONYMOUS, -1, 0L);
            return address.address() == -1L ? null : address.reinterpret(bytes);
        }
        catch (final Throwable e)
        {
            return null;
        }
    }

    private static void advise(final MemorySegment range)
    {
        try
        {
            final int ignored = (int)Binding.MADVISE.invokeExact(range, range.byteSize(), MADV_HUGEPAGE);
        }
        catch (final Throwable e)
        {
            // Only advice: small pages work the same.
        }
    }

    private static void unmap(final MemorySegment mapping)
    {
        try
        {
            final int ignored = (int)Binding.MUNMAP.invokeExact(mapping, mapping.byteSize());
        }
        catch (final Throwable e)
        {
            // Nothing to do in a cleaner; the mapping stays until exit.
        }
    }

    /** Bound on first use; null handles when the platform or the JVM's settings do not allow it. */
    private static final class Binding
    {
        static final MethodHandle MMAP;
        static final MethodHandle MADVISE;
        static final MethodHandle MUNMAP;

        static
        {
            MethodHandle mmap = null;
            MethodHandle madvise = null;
            MethodHandle munmap = null;
            try
            {
                if (System.getProperty("os.name", "").startsWith("Linux"))
                {
                    mmap = bind("mmap", FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT,
                        JAVA_LONG));
                    madvise = bind("madvise", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
                    munmap = bind("munmap", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
                }
            }
            catch (final RuntimeException | Error e)
            {
                mmap = null;
            }
            MMAP = mmap;
            MADVISE = madvise;
            MUNMAP = munmap;
        }

        @SuppressWarnings("restricted") // libc's own signatures
        private static MethodHandle bind(final String name, final FunctionDescriptor descriptor)
        {
            final Linker linker = Linker.nativeLinker();
            final SymbolLookup libc = linker.defaultLookup();
            return linker.downcallHandle(libc.find(name).orElseThrow(), descriptor);
        }
    }
}
