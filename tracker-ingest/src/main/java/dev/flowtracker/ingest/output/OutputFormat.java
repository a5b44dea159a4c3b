package dev.flowtracker.ingest.output;

import java.util.Locale;

/** The forms flow records are written in ({@code --format}); Kafka always gets {@link #JSON}. */
public enum OutputFormat
{
    /** One JSON object per line, the record of docs/flow-record.md (the default). */
    JSON,
    /** A header line of column names, then tab-separated values. */
    TSV,
    /** Zeek's ASCII log format (conn.log's #separator, #fields, #types header and #close footer): zeek-cut reads it. */
    ZEEK,
    /** An aligned text table for people, as wide as the terminal. */
    TABLE;

    /** The name --format takes. */
    public String label()
    {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The format {@code label} names, or null. */
    public static OutputFormat of(final String label)
    {
        for (final OutputFormat format : values())
        {
            if (format.label().equals(label))
            {
                return format;
            }
        }
        return null;
    }
}
