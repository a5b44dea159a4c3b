package dev.flowtracker.ingest.source.file;

import java.util.Arrays;

/** A growable byte array written in a switchable byte order, for building capture files in tests. */
final class EndianBuffer
{
    private byte[] bytes = new byte[256];
    private int length;
    private boolean bigEndian;

    EndianBuffer(final boolean bigEndian)
    {
        this.bigEndian = bigEndian;
    }

    boolean bigEndian()
    {
        return bigEndian;
    }

    void order(final boolean bigEndian)
    {
        this.bigEndian = bigEndian;
    }

    int length()
    {
        return length;
    }

    EndianBuffer u8(final int value)
    {
        ensure(1);
        bytes[length++] = (byte)value;
        return this;
    }

    EndianBuffer u16(final int value)
    {
        if (bigEndian)
        {
            u8(value >>> 8).u8(value);
        }
        else
        {
            u8(value).u8(value >>> 8);
        }
        return this;
    }

    /** The low 32 bits of {@code value}. */
    EndianBuffer u32(final long value)
    {
        if (bigEndian)
        {
            u16((int)(value >>> 16) & 0xFFFF).u16((int)value & 0xFFFF);
        }
        else
        {
            u16((int)value & 0xFFFF).u16((int)(value >>> 16) & 0xFFFF);
        }
        return this;
    }

    /** A 64-bit value in the buffer's order (pcapng: section length, if_tsoffset). */
    EndianBuffer u64(final long value)
    {
        if (bigEndian)
        {
            u32(value >>> 32).u32(value);
        }
        else
        {
            u32(value).u32(value >>> 32);
        }
        return this;
    }

    EndianBuffer bytes(final byte[] data)
    {
        return bytes(data, 0, data.length);
    }

    EndianBuffer bytes(final byte[] data, final int offset, final int count)
    {
        ensure(count);
        System.arraycopy(data, offset, bytes, length, count);
        length += count;
        return this;
    }

    /** Zero bytes up to the next multiple of four. */
    EndianBuffer pad4()
    {
        while ((length & 3) != 0)
        {
            u8(0);
        }
        return this;
    }

    byte[] toByteArray()
    {
        return Arrays.copyOf(bytes, length);
    }

    private void ensure(final int more)
    {
        if (length + more > bytes.length)
        {
            bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, length + more));
        }
    }
}
