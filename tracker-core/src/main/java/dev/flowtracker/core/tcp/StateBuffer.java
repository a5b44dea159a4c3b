package dev.flowtracker.core.tcp;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * A cursor over a byte array that the state classes' {@code encode}/{@code decode} write and read field by field,
 * little-endian: the subset of {@link java.nio.ByteBuffer}'s relative methods they use, without a buffer's byte
 * order switch, mark and limit bookkeeping on every call (a flow table encodes and decodes a connection's ~250
 * fields on every working-set miss, so the cost per field matters). Bounds are the array's: callers check that a
 * whole record fits before encoding or decoding one ({@link FlowStateCodec}).
 *
 * <p>Owned by one thread at a time.
 */
final class StateBuffer
{
    private static final VarHandle LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle SHORT =
        MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);

    private byte[] array;
    private int position;

    StateBuffer(final byte[] array)
    {
        this.array = array;
    }

    /** Over {@code array} from {@code position}. */
    StateBuffer wrap(final byte[] array, final int position)
    {
        this.array = array;
        this.position = position;
        return this;
    }

    byte[] array()
    {
        return array;
    }

    int position()
    {
        return position;
    }

    StateBuffer position(final int position)
    {
        this.position = position;
        return this;
    }

    void putLong(final long value)
    {
        LONG.set(array, position, value);
        position += Long.BYTES;
    }

    void putInt(final int value)
    {
        INT.set(array, position, value);
        position += Integer.BYTES;
    }

    void putShort(final short value)
    {
        SHORT.set(array, position, value);
        position += Short.BYTES;
    }

    void put(final byte value)
    {
        array[position++] = value;
    }

    void put(final byte[] values)
    {
        System.arraycopy(values, 0, array, position, values.length);
        position += values.length;
    }

    long getLong()
    {
        final long value = (long)LONG.get(array, position);
        position += Long.BYTES;
        return value;
    }

    int getInt()
    {
        final int value = (int)INT.get(array, position);
        position += Integer.BYTES;
        return value;
    }

    short getShort()
    {
        final short value = (short)SHORT.get(array, position);
        position += Short.BYTES;
        return value;
    }

    byte get()
    {
        return array[position++];
    }

    void get(final byte[] values)
    {
        System.arraycopy(array, position, values, 0, values.length);
        position += values.length;
    }
}
