package dev.flowtracker.ingest.output;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * One record's text as ASCII bytes in a reusable array: what {@link FlowRecordFormat} builds and what the record
 * writer copies out in one bulk copy, so formatting a connection allocates nothing (a {@link StringBuilder} would
 * need a {@code String} or a char copy to become bytes). Numbers are written digit by digit without a
 * {@code String}; text appended must be ASCII (record fields are: labels, letters, digits, addresses), anything
 * else is written as {@code ?}.
 *
 * <p>A {@link CharSequence} over the bytes, valid until the next change; {@link #toString} copies. Owned by one
 * thread.
 */
public final class AsciiRecord implements CharSequence
{
    private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
    private static final int MAX_LONG_DIGITS = 20;
    private static final byte[] TRUE = "true".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] FALSE = "false".getBytes(StandardCharsets.US_ASCII);

    private byte[] bytes;
    private int length;

    public AsciiRecord(final int initialCapacity)
    {
        bytes = new byte[Math.max(16, initialCapacity)];
    }

    /** Empties the record (the array is kept). */
    public AsciiRecord clear()
    {
        length = 0;
        return this;
    }

    /** Cuts the record back to its first {@code newLength} bytes. */
    public AsciiRecord truncate(final int newLength)
    {
        if (newLength < 0 || newLength > length)
        {
            throw new IndexOutOfBoundsException("length " + newLength + " of " + length);
        }
        length = newLength;
        return this;
    }

    /** The array the text is in, from index 0 to {@link #length}; valid until the next change. */
    public byte[] bytes()
    {
        return bytes;
    }

    @Override
    public int length()
    {
        return length;
    }

    @Override
    public char charAt(final int index)
    {
        if (index < 0 || index >= length)
        {
            throw new IndexOutOfBoundsException("index " + index + " of " + length);
        }
        return (char)bytes[index];
    }

    @Override
    public CharSequence subSequence(final int start, final int end)
    {
        return toString().substring(start, end);
    }

    @Override
    public String toString()
    {
        return new String(bytes, 0, length, StandardCharsets.US_ASCII);
    }

    public AsciiRecord append(final char c)
    {
        ensure(1);
        bytes[length++] = c < 0x80 ? (byte)c : (byte)'?';
        return this;
    }

    public AsciiRecord append(final String text)
    {
        final int n = text.length();
        ensure(n);
        for (int i = 0; i < n; i++)
        {
            final char c = text.charAt(i);
            bytes[length++] = c < 0x80 ? (byte)c : (byte)'?';
        }
        return this;
    }

    /** Appends ASCII bytes, all of {@code source}. */
    public AsciiRecord append(final byte[] source)
    {
        return append(source, 0, source.length);
    }

    /** Appends ASCII bytes {@code [from, from + count)} of {@code source}. */
    public AsciiRecord append(final byte[] source, final int from, final int count)
    {
        ensure(count);
        System.arraycopy(source, from, bytes, length, count);
        length += count;
        return this;
    }

    public AsciiRecord append(final boolean value)
    {
        return append(value ? TRUE : FALSE);
    }

    public AsciiRecord append(final int value)
    {
        return append((long)value);
    }

    public AsciiRecord append(final long value)
    {
        if (value == Long.MIN_VALUE)
        {
            return append("-9223372036854775808");
        }
        if (value < 0)
        {
            append('-');
            return appendDigits(-value, 1);
        }
        return appendDigits(value, 1);
    }

    /** {@code value} read as an unsigned 64-bit number. */
    public AsciiRecord appendUnsigned(final long value)
    {
        if (value >= 0)
        {
            return appendDigits(value, 1);
        }
        // Above 2^63: the quotient by 10 fits a signed long, the last digit follows.
        final long quotient = Long.divideUnsigned(value, 10);
        appendDigits(quotient, 1);
        return append((char)('0' + (int)(value - quotient * 10)));
    }

    /** A non-negative {@code value} with leading zeros to at least {@code width} digits. */
    public AsciiRecord appendDigits(final long value, final int width)
    {
        ensure(Math.max(width, MAX_LONG_DIGITS));
        final int digits = digits(value);
        final int total = Math.max(digits, width);
        long rest = value;
        for (int i = length + total - 1; i >= length; i--)
        {
            bytes[i] = (byte)('0' + (int)(rest % 10));
            rest /= 10;
        }
        length += total;
        return this;
    }

    /** Decimal digits of a non-negative {@code value}: compares, not divisions. */
    private static int digits(final long value)
    {
        int digits = 1;
        for (long bound = 10; digits < 19 && value >= bound; bound *= 10)
        {
            digits++;
        }
        return digits;
    }

    /** {@code value} (0 to 0xFFFF) in lower-case hex without leading zeros. */
    public AsciiRecord appendHex16(final int value)
    {
        ensure(4);
        boolean started = false;
        for (int shift = 12; shift >= 0; shift -= 4)
        {
            final int nibble = (value >>> shift) & 0xF;
            if (nibble != 0 || started || shift == 0)
            {
                bytes[length++] = HEX[nibble];
                started = true;
            }
        }
        return this;
    }

    private void ensure(final int more)
    {
        if (length + more > bytes.length)
        {
            bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, length + more));
        }
    }
}
