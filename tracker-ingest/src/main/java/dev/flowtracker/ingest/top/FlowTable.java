package dev.flowtracker.ingest.top;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * The table of flows, fitted to a width: every column first takes the width of its widest cell; when the line is too
 * wide, the least important columns give way first (the truncatable ones are cut down to a few characters, the
 * others dropped), and the uid and both endpoints stay. A stateless function of the rows, used on the calling thread.
 */
final class FlowTable
{
    /** Spaces between two columns. */
    static final int GAP = 2;
    /** Marks a cell cut short. ASCII: the table also goes to files and terminals of any encoding. */
    static final char CUT = '~';

    /**
     * The columns in display order. Importance: 0 never gives way, higher numbers give way first. A column with a
     * {@code soft} width is cut down to it before anything else gives way (an IPv6 endpoint to the width of an IPv4
     * one); a column with a {@code shortest} width is cut down to that before it is dropped (or, of importance 0,
     * instead); the others are dropped whole.
     */
    enum Column
    {
        UID("UID", 0, 0, 0, false, FlowRow::uid),
        ORIG("ORIG", 0, 22, 12, false, FlowRow::orig),
        RESP("RESP", 0, 22, 12, false, FlowRow::resp),
        STATE("STATE", 2, 0, 0, false, FlowRow::connState),
        HISTORY("HISTORY", 6, 0, 0, false, FlowRow::history),
        DURATION("DURATION", 4, 0, 0, true, row -> duration(row.duration())),
        BYTES("BYTES", 3, 0, 0, true, row -> count(row.bytes())),
        PACKETS("PKTS", 5, 0, 0, true, row -> count(row.packets())),
        RETX("RETX%", 1, 0, 0, true, row -> percent(row.retransmissionRatio())),
        RTT_MAX("RTT_MAX", 3, 0, 0, true, row -> seconds(row.rttMax())),
        END("END", 7, 0, 0, false, row -> row.endReason().isEmpty() ? "open" : row.endReason()),
        TAP("TAP", 8, 0, 6, false, FlowRow::tap);

        final String title;
        final int importance;
        final int soft;
        final int shortest;
        final boolean right;
        final Function<FlowRow, String> text;

        Column(final String title, final int importance, final int soft, final int shortest, final boolean right,
            final Function<FlowRow, String> text)
        {
            this.title = title;
            this.importance = importance;
            this.soft = soft;
            this.shortest = shortest;
            this.right = right;
            this.text = text;
        }
    }

    /**
     * The columns kept and their widths.
     *
     * @param columns the columns shown, in display order.
     * @param widths  the width of each.
     */
    record Layout(List<Column> columns, int[] widths)
    {
        /** The width of a line: the columns and the gaps between them. */
        int width()
        {
            int width = 0;
            for (final int w : widths)
            {
                width += w;
            }
            return width + GAP * Math.max(0, widths.length - 1);
        }
    }

    private FlowTable()
    {
    }

    /** The layout of {@code rows} in at most {@code width} characters (0 or less: no limit). */
    static Layout layout(final List<FlowRow> rows, final int width)
    {
        final List<Column> kept = new ArrayList<>(List.of(Column.values()));
        final boolean allOpen = rows.stream().allMatch(row -> row.endReason().isEmpty());
        if (allOpen)
        {
            kept.remove(Column.END); // active connections: all "open"
        }
        final int[] natural = new int[Column.values().length];
        for (final Column column : Column.values())
        {
            int w = column.title.length();
            for (final FlowRow row : rows)
            {
                w = Math.max(w, column.text.apply(row).length());
            }
            natural[column.ordinal()] = w;
        }
        int total = 0;
        for (final Column column : kept)
        {
            total += natural[column.ordinal()] + GAP;
        }
        total -= GAP;
        if (width > 0)
        {
            for (final Column column : kept)
            {
                final int w = natural[column.ordinal()];
                if (total > width && column.soft > 0 && w > column.soft)
                {
                    final int shorter = Math.max(column.soft, w - (total - width));
                    natural[column.ordinal()] = shorter;
                    total -= w - shorter;
                }
            }
            final List<Column> leastFirst = new ArrayList<>(kept);
            leastFirst.sort(Comparator.comparingInt((final Column c) -> c.importance).reversed());
            for (final Column column : leastFirst)
            {
                if (total <= width)
                {
                    break;
                }
                final int w = natural[column.ordinal()];
                if (column.shortest > 0 && w - (total - width) >= column.shortest)
                {
                    natural[column.ordinal()] = w - (total - width); // cutting it is enough
                    total = width;
                }
                else if (column.importance > 0)
                {
                    kept.remove(column);
                    total -= w + GAP;
                }
                else if (column.shortest > 0)
                {
                    final int shorter = Math.min(w, column.shortest);
                    natural[column.ordinal()] = shorter;
                    total -= w - shorter;
                }
            }
        }
        if (width > 0)
        {
            total = refill(kept, natural, total, width, allOpen ? Column.END : null);
        }
        final int[] widths = new int[kept.size()];
        for (int i = 0; i < widths.length; i++)
        {
            widths[i] = natural[kept.get(i).ordinal()];
        }
        return new Layout(List.copyOf(kept), widths);
    }

    /**
     * Puts dropped columns back, the most important first, where they fit in the room left (a wide column dropped
     * may have left room for a narrower, less important one); the new total width.
     */
    private static int refill(final List<Column> kept, final int[] natural, final int total, final int width,
        final Column unwanted)
    {
        int sum = total;
        final List<Column> dropped = new ArrayList<>();
        for (final Column column : Column.values())
        {
            if (!kept.contains(column) && column.importance > 0 && column != unwanted)
            {
                dropped.add(column);
            }
        }
        dropped.sort(Comparator.comparingInt((final Column c) -> c.importance));
        for (final Column column : dropped)
        {
            if (sum + GAP + natural[column.ordinal()] <= width)
            {
                kept.add(column);
                sum += GAP + natural[column.ordinal()];
            }
        }
        kept.sort(Comparator.naturalOrder());
        return sum;
    }

    /** The heading line of {@code layout}. */
    static String header(final Layout layout)
    {
        final StringBuilder line = new StringBuilder();
        for (int i = 0; i < layout.columns().size(); i++)
        {
            final Column column = layout.columns().get(i);
            cell(line, i, column.title, layout.widths()[i], column.right);
        }
        return line.toString();
    }

    /** The line of {@code row} in {@code layout}. */
    static String line(final Layout layout, final FlowRow row)
    {
        final StringBuilder line = new StringBuilder();
        for (int i = 0; i < layout.columns().size(); i++)
        {
            final Column column = layout.columns().get(i);
            String text = column.text.apply(row);
            final int w = layout.widths()[i];
            if (text.length() > w)
            {
                text = column == Column.ORIG || column == Column.RESP ? cutEndpoint(text, w) : cut(text, w);
            }
            cell(line, i, text, w, column.right);
        }
        return line.toString();
    }

    /** The heading and one line per row, each at most {@code width} characters (0 or less: no limit). */
    static List<String> render(final List<FlowRow> rows, final int width)
    {
        final Layout layout = layout(rows, width);
        final List<String> lines = new ArrayList<>(rows.size() + 1);
        lines.add(fit(header(layout), width));
        for (final FlowRow row : rows)
        {
            lines.add(fit(line(layout, row), width));
        }
        return lines;
    }

    /** {@code text} cut to {@code width} (0 or less: no limit), trailing spaces removed. */
    static String fit(final String text, final int width)
    {
        final String cut = width > 0 && text.length() > width ? cut(text, width) : text;
        return cut.stripTrailing();
    }

    /** {@code text} in {@code width} characters, the last one the cut mark. */
    static String cut(final String text, final int width)
    {
        if (width <= 1)
        {
            return text.substring(0, Math.max(0, width));
        }
        return text.substring(0, width - 1) + CUT;
    }

    /** An {@code address:port} in {@code width} characters: the address is cut, the port kept. */
    static String cutEndpoint(final String endpoint, final int width)
    {
        final int colon = endpoint.lastIndexOf(':');
        final String port = endpoint.substring(colon);
        final int room = width - port.length() - 1;
        if (colon < 0 || room < 1)
        {
            return cut(endpoint, width);
        }
        return endpoint.substring(0, room) + CUT + port;
    }

    private static void cell(final StringBuilder line, final int index, final String text, final int width,
        final boolean right)
    {
        if (index > 0)
        {
            line.append(" ".repeat(GAP));
        }
        final String pad = " ".repeat(Math.max(0, width - text.length()));
        if (right)
        {
            line.append(pad).append(text);
        }
        else
        {
            line.append(text).append(pad);
        }
    }

    /** A count: exact up to 99,999, then k, M, G, T with three significant digits. */
    static String count(final long value)
    {
        if (value < 100_000)
        {
            return Long.toString(value);
        }
        final String[] units = {"k", "M", "G", "T", "P"};
        double scaled = value;
        int unit = -1;
        while (scaled >= 1000 && unit < units.length - 1)
        {
            scaled /= 1000;
            unit++;
        }
        return String.format(Locale.ROOT, scaled < 10 ? "%.2f%s" : scaled < 100 ? "%.1f%s" : "%.0f%s", scaled,
            units[unit]);
    }

    /** A ratio as a percentage with two decimals; {@code -} for none. */
    static String percent(final double ratio)
    {
        return Double.isNaN(ratio) ? "-" : String.format(Locale.ROOT, "%.2f", ratio * 100);
    }

    /** A short time span: ms below a second, s below 100 s, then m and h. {@code -} for none. */
    static String seconds(final double seconds)
    {
        if (Double.isNaN(seconds))
        {
            return "-";
        }
        if (seconds < 1)
        {
            return String.format(Locale.ROOT, seconds < 0.01 ? "%.2fms" : "%.0fms", seconds * 1000);
        }
        return duration(seconds);
    }

    /** A duration: seconds with three decimals below 100 s, then minutes and hours. */
    static String duration(final double seconds)
    {
        if (seconds < 100)
        {
            return String.format(Locale.ROOT, "%.3fs", seconds);
        }
        final long whole = (long)seconds;
        if (whole < 3600)
        {
            return String.format(Locale.ROOT, "%dm%02ds", whole / 60, whole % 60);
        }
        return String.format(Locale.ROOT, "%dh%02dm", whole / 3600, whole % 3600 / 60);
    }
}
