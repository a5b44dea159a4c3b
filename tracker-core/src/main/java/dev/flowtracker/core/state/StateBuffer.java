package dev.flowtracker.core.state;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * A cursor over a byte array that the state classes' {@code encode}/{@code decode} write and read field by field,
 * little-endian: the subset of {@link java.nio.ByteBuffer}'s relative methods they use, without a buffer's byte
 * order switch, mark and limit bookkeeping on every call (a flow table encodes and decodes a connection's ~250
 * fields on every working-set miss, so the cost per field matters). Bounds are the array's: callers check that a
 * whole record fits before encoding or decoding one ({@code dev.flowtracker.core.flow.FlowStateCodec}).
 *
 * <p>Public for the state classes of {@code dev.flowtracker.core.tcp} and {@code dev.flowtracker.core.tcp.zeek} and
 * the codecs of {@code dev.flowtracker.core.flow}. Owned by one thread at a time.
 */
public final class StateBuffer
{
    private static final VarHandle LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle SHORT =
        MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);

    private byte[] array;
    private int position;

    public StateBuffer(final byte[] array)
    {
        this.array = array;
    }

    /** Over {@code array} from {@code position}. */
    public StateBuffer wrap(final byte[] array, final int position)
    {
        this.array = array;
        this.position = position;
        return this;
    }

    public byte[] array()
    {
        return array;
    }

    public int position()
    {
        return position;
    }

    public StateBuffer position(final int position)
    {
        this.position = position;
        return this;
    }

    public void putLong(final long value)
    {
        LONG.set(array, position, value);
        position += Long.BYTES;
    }

    public void putInt(final int value)
    {
        INT.set(array, position, value);
        position += Integer.BYTES;
    }

    public void putShort(final short value)
    {
        SHORT.set(array, position, value);
        position += Short.BYTES;
    }

    public void put(final byte value)
    {
        array[position++] = value;
    }

    public void put(final byte[] values)
    {
        System.arraycopy(values, 0, array, position, values.length);
        position += values.length;
    }

    public long getLong()
    {
        final long value = (long)LONG.get(array, position);
        position += Long.BYTES;
        return value;
    }

    public int getInt()
    {
        final int value = (int)INT.get(array, position);
        position += Integer.BYTES;
        return value;
    }

    public short getShort()
    {
        final short value = (short)SHORT.get(array, position);
        position += Short.BYTES;
        return value;
    }

    public byte get()
    {
        return array[position++];
    }

    public void get(final byte[] values)
    {
        System.arraycopy(array, position, values, 0, values.length);
        position += values.length;
    }
}
