package dev.flowtracker.ingest.output;

import dev.flowtracker.core.tcp.TcpConnection;
import dev.flowtracker.ingest.output.RecordColumns.Column;
import dev.flowtracker.ingest.output.RecordColumns.Kind;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Formats a record as one line of a {@link RecordLayout} other than the full JSON record: tab-separated values (TSV
 * and Zeek's log format), an aligned table row, or a JSON object of the chosen fields (keys are the column names).
 * Writes each value straight into one reusable buffer (a table cell through a second one, to pad it), so formatting
 * allocates nothing. Unset values are empty in TSV, {@code -} in Zeek's format and tables, {@code null} in JSON;
 * booleans are {@code T}/{@code F} in Zeek's format as Zeek writes them, {@code true}/{@code false} elsewhere.
 *
 * <p>An instance belongs to one thread (a worker).
 */
public final class TextRecordFormat implements RecordFormatter
{
    private static final byte[] TRUE = ascii("true");
    private static final byte[] FALSE = ascii("false");
    private static final byte[] NULL = ascii("null");

    private final OutputFormat format;
    private final Column[] columns;
    /** Per column, {@code "name":} after a comma but for the first (JSON only). */
    private final byte[][] jsonKeys;
    private final byte[] unset;
    private final AsciiRecord line = new AsciiRecord(512);
    private final AsciiRecord cell = new AsciiRecord(64);
    private final CommunityId communityId;
    private final String tapName;

    public TextRecordFormat(final RecordLayout layout, final RecordFields fields)
    {
        this.format = layout.format();
        this.columns = layout.columns().toArray(new Column[0]);
        this.jsonKeys = new byte[columns.length][];
        for (int i = 0; i < columns.length; i++)
        {
            jsonKeys[i] = ascii((i > 0 ? ",\"" : "\"") + columns[i].name() + "\":");
        }
        this.unset = ascii(format == OutputFormat.TSV ? "" : "-");
        this.communityId = new CommunityId(fields.communityIdSeed());
        this.tapName = fields.tapName();
    }

    @Override
    public AsciiRecord format(final TcpConnection c)
    {
        final AsciiRecord out = line.clear();
        switch (format)
        {
            case JSON -> json(out, c);
            case TABLE -> table(out, c);
            default -> separated(out, c);
        }
        return out;
    }

    private void separated(final AsciiRecord out, final TcpConnection c)
    {
        for (int i = 0; i < columns.length; i++)
        {
            if (i > 0)
            {
                out.append('\t');
            }
            if (!columns[i].writer().write(out, c, this))
            {
                out.append(unset);
            }
        }
    }

    private void json(final AsciiRecord out, final TcpConnection c)
    {
        out.append('{');
        for (int i = 0; i < columns.length; i++)
        {
            out.append(jsonKeys[i]);
            final boolean quoted = columns[i].kind() == Kind.TEXT;
            final int start = out.length();
            if (quoted)
            {
                out.append('"');
            }
            if (!columns[i].writer().write(out, c, this))
            {
                out.truncate(start).append(NULL);
            }
            else if (quoted)
            {
                out.append('"');
            }
        }
        out.append('}');
    }

    private void table(final AsciiRecord out, final TcpConnection c)
    {
        for (int i = 0; i < columns.length; i++)
        {
            final AsciiRecord value = cell.clear();
            if (!columns[i].writer().write(value, c, this))
            {
                value.append(unset);
            }
            appendCell(out, i, value.bytes(), value.length());
        }
        trimTrailingSpaces(out);
    }

    /** A table row of the given texts (the header), aligned as the records' rows. */
    String tableRow(final List<String> texts)
    {
        final AsciiRecord out = new AsciiRecord(256);
        for (int i = 0; i < columns.length; i++)
        {
            final byte[] text = ascii(texts.get(i));
            appendCell(out, i, text, text.length);
        }
        trimTrailingSpaces(out);
        return out.toString();
    }

    /**
     * One cell: numbers right-aligned, the rest left-aligned in the column's width; a longer value (an IPv6 address)
     * is written whole and shifts the rest of its row rather than being cut.
     */
    private void appendCell(final AsciiRecord out, final int index, final byte[] text, final int length)
    {
        if (index > 0)
        {
            spaces(out, RecordLayout.TABLE_GAP);
        }
        final int padding = Math.max(0, columns[index].width() - length);
        final boolean right = columns[index].kind() == Kind.NUMBER;
        if (right)
        {
            spaces(out, padding);
        }
        out.append(text, 0, length);
        if (!right)
        {
            spaces(out, padding);
        }
    }

    private static void spaces(final AsciiRecord out, final int count)
    {
        for (int i = 0; i < count; i++)
        {
            out.append(' ');
        }
    }

    private static void trimTrailingSpaces(final AsciiRecord out)
    {
        int end = out.length();
        while (end > 0 && out.bytes()[end - 1] == ' ')
        {
            end--;
        }
        out.truncate(end);
    }

    /** A boolean in this format's words. Always set. */
    boolean appendBool(final AsciiRecord out, final boolean value)
    {
        if (format == OutputFormat.ZEEK)
        {
            out.append(value ? 'T' : 'F');
        }
        else
        {
            out.append(value ? TRUE : FALSE);
        }
        return true;
    }

    /** The tap's name; unset when the records carry none. */
    boolean appendTap(final AsciiRecord out)
    {
        if (tapName == null)
        {
            return false;
        }
        out.append(tapName);
        return true;
    }

    boolean appendCommunityId(final AsciiRecord out, final TcpConnection c)
    {
        communityId.append(out, c.ipVersion(), c.originatorAddressHigh(), c.originatorAddressLow(),
            c.originatorPort(), c.responderAddressHigh(), c.responderAddressLow(), c.responderPort());
        return true;
    }

    private static byte[] ascii(final String text)
    {
        return text.getBytes(StandardCharsets.US_ASCII);
    }
}
