package dev.flowtracker.ingest.output;

import dev.flowtracker.ingest.output.RecordColumns.Column;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;

/**
 * How records are written ({@code --format} and {@code --fields}): the format, the columns in their order, and the
 * lines a file of them begins and ends with (a TSV or table header; Zeek's header block and {@code #close} line).
 * The full JSON record is the default and keeps its own code path ({@link FlowRecordFormat}); every other layout is
 * written by a {@link TextRecordFormat} over {@link RecordColumns}. Immutable; any thread.
 */
public final class RecordLayout
{
    /** The full JSON record, as always. */
    public static final RecordLayout JSON = new RecordLayout(OutputFormat.JSON, RecordColumns.all(), false);
    /** Width a table is fitted to when stdout is not a terminal and COLUMNS is not set. */
    public static final int DEFAULT_TABLE_WIDTH = 160;
    /** The columns of a table unless --fields: the first that fit the width, in this order. */
    public static final List<String> TABLE_COLUMNS = List.of("ts", "uid", "orig", "resp", "duration", "orig_bytes",
        "resp_bytes", "conn_state", "history", "retrans", "rtt", "tcp.end_reason", "community_id");
    /** Spaces between table columns. */
    static final int TABLE_GAP = 2;

    private static final DateTimeFormatter ZEEK_TIME =
        DateTimeFormatter.ofPattern("yyyy-MM-dd-HH-mm-ss").withZone(ZoneOffset.UTC);

    private final OutputFormat format;
    private final List<Column> columns;
    private final boolean fieldsGiven;

    private RecordLayout(final OutputFormat format, final List<Column> columns, final boolean fieldsGiven)
    {
        this.format = format;
        this.columns = List.copyOf(columns);
        this.fieldsGiven = fieldsGiven;
    }

    /**
     * The layout of {@code format} with the columns {@code fields} names (null: the format's default: every record
     * column, and for a table the {@link #TABLE_COLUMNS} that fit {@code tableWidth}).
     *
     * @throws IllegalArgumentException naming the first unknown or repeated field.
     */
    public static RecordLayout of(final OutputFormat format, final List<String> fields, final int tableWidth)
    {
        if (fields == null)
        {
            if (format == OutputFormat.JSON)
            {
                return JSON;
            }
            if (format == OutputFormat.TABLE)
            {
                return new RecordLayout(format, fitted(tableWidth), false);
            }
            final List<Column> record = new ArrayList<>();
            for (final Column column : RecordColumns.all())
            {
                if (!column.derived())
                {
                    record.add(column);
                }
            }
            return new RecordLayout(format, record, false);
        }
        final List<Column> chosen = new ArrayList<>();
        for (final String name : fields)
        {
            final Column column = RecordColumns.named(name.strip());
            if (column == null)
            {
                throw new IllegalArgumentException("unknown field '" + name.strip() + "' (the fields are the JSON " +
                    "record's, nested ones by path such as tcp.orig.mss, see docs/flow-record.md)");
            }
            if (chosen.contains(column))
            {
                throw new IllegalArgumentException("field '" + column.name() + "' given twice");
            }
            chosen.add(column);
        }
        if (chosen.isEmpty())
        {
            throw new IllegalArgumentException("no field given");
        }
        return new RecordLayout(format, chosen, true);
    }

    /** The default table columns that fit {@code width}, dropped from the last. */
    private static List<Column> fitted(final int width)
    {
        final List<Column> columns = new ArrayList<>();
        int used = 0;
        for (final String name : TABLE_COLUMNS)
        {
            final Column column = RecordColumns.named(name);
            final int more = (columns.isEmpty() ? 0 : TABLE_GAP) + column.width();
            if (!columns.isEmpty() && used + more > width)
            {
                break;
            }
            columns.add(column);
            used += more;
        }
        return columns;
    }

    public OutputFormat format()
    {
        return format;
    }

    /** The columns written, in order (all of them for the full JSON record). */
    public List<Column> columns()
    {
        return columns;
    }

    /** Whether this is the full JSON record, written by {@link FlowRecordFormat}. */
    public boolean fullJson()
    {
        return format == OutputFormat.JSON && !fieldsGiven;
    }

    /** A formatter for one worker. */
    public RecordFormatter formatter(final RecordFields fields)
    {
        return fullJson() ? new FlowRecordFormat(fields) : new TextRecordFormat(this, fields);
    }

    /** What a file (or the stream) of records begins with; empty for JSON. */
    public byte[] header()
    {
        final StringBuilder text = new StringBuilder();
        switch (format)
        {
            case TSV -> appendNames(text, "").append('\n');
            case ZEEK ->
            {
                text.append("#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n")
                    .append("#path\tconn\n#open\t").append(ZEEK_TIME.format(Instant.now())).append('\n');
                appendNames(text, "#fields\t").append('\n').append("#types");
                for (final Column column : columns)
                {
                    text.append('\t').append(column.zeekType());
                }
                text.append('\n');
            }
            case TABLE ->
            {
                final TextRecordFormat heading = new TextRecordFormat(this, RecordFields.DEFAULTS);
                text.append(heading.tableRow(columns.stream().map(Column::name).toList())).append('\n');
            }
            default ->
            {
                // JSON lines have no header
            }
        }
        return text.toString().getBytes(StandardCharsets.US_ASCII);
    }

    /** What a file (or the stream) of records ends with: Zeek's #close line; empty for the rest. */
    public byte[] footer()
    {
        return format == OutputFormat.ZEEK ?
            ("#close\t" + ZEEK_TIME.format(Instant.now()) + "\n").getBytes(StandardCharsets.US_ASCII) : new byte[0];
    }

    private StringBuilder appendNames(final StringBuilder text, final String prefix)
    {
        text.append(prefix);
        for (int i = 0; i < columns.size(); i++)
        {
            text.append(i > 0 ? "\t" : "").append(columns.get(i).name());
        }
        return text;
    }
}
