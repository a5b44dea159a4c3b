package dev.flowtracker.core.flow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import org.junit.jupiter.api.Test;

/** Chunk memory is zero, exactly as long as asked, writable, and huge-page aligned when huge pages are asked for. */
class ChunkMemoryTest
{
    @Test
    void shouldGiveZeroedWritableMemoryOfTheSizeAsked()
    {
        for (final boolean hugePages : new boolean[] {false, true})
        {
            final long bytes = 3 * ChunkMemory.HUGE_PAGE + 4104; // not a page multiple
            final MemorySegment chunk = ChunkMemory.allocate(bytes, hugePages);
            assertEquals(bytes, chunk.byteSize());
            assertEquals(0, chunk.address() % Long.BYTES);
            for (long offset = 0; offset < bytes; offset += 4096 - 8)
            {
                assertEquals(0L, chunk.get(ValueLayout.JAVA_LONG_UNALIGNED, offset), "byte " + offset);
                chunk.set(ValueLayout.JAVA_LONG_UNALIGNED, offset, offset + 1);
            }
            assertEquals(0L, chunk.get(ValueLayout.JAVA_LONG_UNALIGNED, bytes - Long.BYTES));
            chunk.set(ValueLayout.JAVA_LONG_UNALIGNED, bytes - Long.BYTES, -1L);
            for (long offset = 0; offset < bytes - Long.BYTES; offset += 4096 - 8)
            {
                assertEquals(offset + 1, chunk.get(ValueLayout.JAVA_LONG_UNALIGNED, offset), "byte " + offset);
            }
        }
    }

    @Test
    void shouldStartOnAHugePageWhenHugePagesAreAskedForOnLinux()
    {
        final MemorySegment chunk = ChunkMemory.allocate(ChunkMemory.HUGE_PAGE + 1, true);
        if (System.getProperty("os.name", "").startsWith("Linux"))
        {
            assertTrue(ChunkMemory.isMapped(), "mmap should be bound on Linux with native access allowed");
            assertEquals(0, chunk.address() % ChunkMemory.HUGE_PAGE, () -> Long.toHexString(chunk.address()));
        }
    }
}
