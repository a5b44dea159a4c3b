package dev.flowtracker.ingest.top;

import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import org.jline.utils.AttributedString;
import org.jline.utils.AttributedStringBuilder;
import org.jline.utils.AttributedStyle;

/**
 * What {@code tracker top} shows and the keys that change it: the sort, order, filters and ended switch that make the
 * {@code /flows} query, the last answer, the selected row and the record pane. It does no I/O: a key returns the
 * {@link Action} the terminal loop carries out, and {@link #render} draws the screen for a size. Used on the command's
 * thread only.
 */
final class TopScreen
{
    /** The sorts {@code s} cycles through, as {@code /flows} names them; the first is the default. */
    static final List<String> SORTS = List.of("retransmission_ratio", "rtt_max", "bytes", "packets", "duration",
        "recent");
    /** The {@code /flows} filters a filter line may give. */
    static final Set<String> FILTERS = Set.of("host", "net", "port", "conn_state", "flag", "min", "tap");

    static final int KEY_UP = 0x1_0001;
    static final int KEY_DOWN = 0x1_0002;
    static final int KEY_PAGE_UP = 0x1_0003;
    static final int KEY_PAGE_DOWN = 0x1_0004;
    static final int KEY_ESC = 27;

    /** Lines above the table (title, health, query) and below it (keys); the table's heading is one more. */
    static final int CHROME = 5;

    private static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("HH:mm:ss", Locale.ROOT);
    private static final AttributedStyle INVERSE = AttributedStyle.DEFAULT.inverse();
    private static final AttributedStyle BOLD = AttributedStyle.BOLD;
    private static final AttributedStyle ERROR = AttributedStyle.DEFAULT.foreground(AttributedStyle.RED).bold();

    /** What the terminal loop does after a key. */
    enum Action
    {
        /** Draw again. */
        REDRAW,
        /** Ask the tracker again now, then draw. */
        REFRESH,
        /** Fetch the selected connection's record ({@link #selectedUid()}) into the pane. */
        OPEN,
        /** Restore the terminal and exit. */
        QUIT
    }

    private final String url;
    private final String every;
    private int sort;
    private boolean descending;
    private boolean ended;
    private Map<String, String> filters;
    private String filterText;
    private StringBuilder editing;

    private List<FlowRow> rows = List.of();
    private String error;
    private String refreshed = "never";
    private Health health;
    private double packetsPerSecond = Double.NaN;
    private long healthAt;
    private int selected;
    private int top;
    private List<String> record;
    private String recordUid;
    private int recordTop;

    /**
     * A screen for the tracker at {@code url} polled {@code every} (as said in the title), starting with these
     * query settings.
     */
    TopScreen(final String url, final String every, final String sort, final boolean descending,
        final boolean ended, final Map<String, String> filters)
    {
        this.url = url;
        this.every = every;
        this.sort = Math.max(0, SORTS.indexOf(sort));
        this.descending = descending;
        this.ended = ended;
        this.filters = new LinkedHashMap<>(filters);
        this.filterText = filterText(filters);
    }

    /**
     * The filters of a filter line: {@code NAME=VALUE} pairs apart by spaces, {@code &} or {@code ,}; empty for a
     * blank line.
     *
     * @throws IllegalArgumentException naming what is wrong.
     */
    static Map<String, String> parseFilters(final String text)
    {
        final Map<String, String> filters = new LinkedHashMap<>();
        for (final String pair : text.strip().split("[\\s&,]+"))
        {
            if (pair.isEmpty())
            {
                continue;
            }
            final int equals = pair.indexOf('=');
            if (equals <= 0)
            {
                throw new IllegalArgumentException("a filter is NAME=VALUE (e.g. port=443), not '" + pair + "'");
            }
            final String name = pair.substring(0, equals);
            if (!FILTERS.contains(name))
            {
                throw new IllegalArgumentException("unknown filter '" + name + "' (host, net, port, conn_state, " +
                    "flag, min, tap)");
            }
            filters.put(name, pair.substring(equals + 1));
        }
        return filters;
    }

    /** The {@code /flows} query string for at most {@code limit} rows. */
    String query(final int limit)
    {
        final Map<String, String> parameters = new LinkedHashMap<>();
        parameters.put("sort", SORTS.get(sort));
        parameters.put("order", descending ? "desc" : "asc");
        if (ended)
        {
            parameters.put("ended", "true");
        }
        parameters.putAll(filters);
        parameters.put("limit", Integer.toString(Math.clamp(limit, 1, 1000)));
        return TrackerClient.query(parameters);
    }

    /** The rows that fit a screen of {@code height} lines (the {@code limit} to ask for). */
    static int tableRows(final int height)
    {
        return Math.max(1, height - CHROME - 1);
    }

    String sortKey()
    {
        return SORTS.get(sort);
    }

    boolean descending()
    {
        return descending;
    }

    boolean showsRecord()
    {
        return record != null;
    }

    /** The uid of the selected row, or null when there are no rows. */
    String selectedUid()
    {
        return rows.isEmpty() ? null : rows.get(selected).uid();
    }

    /** The answer of a poll: the rows, the health (null when unknown), at {@code nanos} on the monotonic clock. */
    void update(final List<FlowRow> newRows, final Health newHealth, final long nanos, final LocalTime now)
    {
        final String uid = selectedUid();
        rows = List.copyOf(newRows);
        selected = 0;
        for (int i = 0; uid != null && i < rows.size(); i++)
        {
            if (rows.get(i).uid().equals(uid))
            {
                selected = i; // the selection follows its connection
            }
        }
        if (newHealth != null && health != null && nanos > healthAt)
        {
            packetsPerSecond = Math.max(0, newHealth.packets() - health.packets()) * 1e9 / (nanos - healthAt);
        }
        if (newHealth != null)
        {
            health = newHealth;
            healthAt = nanos;
        }
        error = null;
        refreshed = CLOCK.format(now);
    }

    /** A poll that failed: the last rows stay, marked by the error. A refused query (400) clears them. */
    void failed(final TrackerClient.Failure failure, final LocalTime now)
    {
        error = failure.getMessage() + (failure.parameter == null ? "" : " (parameter " + failure.parameter + ")");
        if (failure.status == 400)
        {
            rows = List.of();
            selected = 0;
        }
        refreshed = CLOCK.format(now) + " (failed)";
    }

    /** The record pane for {@code uid}: the record's lines, or why there is none. */
    void showRecord(final String uid, final String text)
    {
        recordUid = uid;
        record = List.of(text.split("\n"));
        recordTop = 0;
    }

    /** What key {@code key} (a character, or one of the {@code KEY_} codes) does. */
    Action key(final int key)
    {
        if (editing != null)
        {
            return editKey(key);
        }
        if (key == 'q' || key == 'Q' || key == 3)
        {
            return Action.QUIT;
        }
        if (record != null)
        {
            return recordKey(key);
        }
        switch (key)
        {
            case 's' ->
            {
                sort = (sort + 1) % SORTS.size();
                return Action.REFRESH;
            }
            case 'S' ->
            {
                descending = !descending;
                return Action.REFRESH;
            }
            case 'e' ->
            {
                ended = !ended;
                return Action.REFRESH;
            }
            case 'r' ->
            {
                return Action.REFRESH;
            }
            case '/' ->
            {
                editing = new StringBuilder(filterText);
                return Action.REDRAW;
            }
            case KEY_UP, 'k' -> selected = Math.max(0, selected - 1);
            case KEY_DOWN, 'j' -> selected = Math.max(0, Math.min(rows.size() - 1, selected + 1));
            case KEY_PAGE_UP -> selected = Math.max(0, selected - 10);
            case KEY_PAGE_DOWN -> selected = Math.max(0, Math.min(rows.size() - 1, selected + 10));
            case '\r', '\n' ->
            {
                return rows.isEmpty() ? Action.REDRAW : Action.OPEN;
            }
            default ->
            {
                // not a key of ours
            }
        }
        return Action.REDRAW;
    }

    private Action recordKey(final int key)
    {
        switch (key)
        {
            case KEY_ESC, 127, 8, 'b' -> record = null; // Backspace goes back too
            case KEY_UP, 'k' -> recordTop = Math.max(0, recordTop - 1);
            case KEY_DOWN, 'j' -> recordTop = Math.min(Math.max(0, record.size() - 1), recordTop + 1);
            case KEY_PAGE_UP -> recordTop = Math.max(0, recordTop - 10);
            case KEY_PAGE_DOWN -> recordTop = Math.min(Math.max(0, record.size() - 1), recordTop + 10);
            default ->
            {
                // not a key of the pane
            }
        }
        return Action.REDRAW;
    }

    private Action editKey(final int key)
    {
        switch (key)
        {
            case KEY_ESC, 3 -> editing = null; // cancelled: the filters stay as they were
            case 127, 8 ->
            {
                if (!editing.isEmpty())
                {
                    editing.setLength(editing.length() - 1);
                }
            }
            case '\r', '\n' ->
            {
                final String text = editing.toString();
                editing = null;
                try
                {
                    filters = parseFilters(text);
                    filterText = filterText(filters);
                    return Action.REFRESH;
                }
                catch (final IllegalArgumentException e)
                {
                    error = e.getMessage();
                }
            }
            default ->
            {
                if (key >= ' ' && key < 0x7f)
                {
                    editing.append((char)key);
                }
            }
        }
        return Action.REDRAW;
    }

    private static String filterText(final Map<String, String> filters)
    {
        final StringBuilder text = new StringBuilder();
        filters.forEach((name, value) -> text.append(text.isEmpty() ? "" : " ").append(name).append('=')
            .append(value));
        return text.toString();
    }

    /** The screen for a terminal of {@code width} columns and {@code height} lines, each line within the width. */
    List<AttributedString> render(final int width, final int height)
    {
        final List<AttributedString> lines = new ArrayList<>(height);
        lines.add(line(width, AttributedStyle.BOLD, "tracker top  " + url + "  every " + every + "  refreshed " +
            refreshed));
        lines.add(error != null ? line(width, ERROR, error) : line(width, AttributedStyle.DEFAULT, healthLine()));
        if (editing != null)
        {
            lines.add(line(width, BOLD, "filter (NAME=VALUE ..., Enter applies, Esc cancels): " + editing + "_"));
        }
        else
        {
            lines.add(line(width, AttributedStyle.DEFAULT, "sort " + SORTS.get(sort) + (descending ? " desc" :
                " asc") + "  " + (ended ? "ended" : "active") + "  filter " + (filterText.isEmpty() ? "none" :
                filterText) + "  " + rows.size() + " shown"));
        }
        if (record != null)
        {
            renderRecord(lines, width, height);
        }
        else
        {
            renderTable(lines, width, height);
        }
        while (lines.size() < height - 1)
        {
            lines.add(AttributedString.EMPTY);
        }
        lines.add(line(width, AttributedStyle.DEFAULT.faint(), record != null ?
            "Esc back  up/down scroll  q quit" :
            "q quit  s sort  S order  / filter  e ended  r refresh  up/down select  Enter record"));
        return lines.subList(Math.max(0, lines.size() - height), lines.size());
    }

    private void renderTable(final List<AttributedString> lines, final int width, final int height)
    {
        final int room = Math.max(0, height - CHROME);
        final FlowTable.Layout layout = FlowTable.layout(rows, width);
        lines.add(line(width, INVERSE, pad(FlowTable.header(layout), width)));
        final int visible = Math.max(0, room - 1);
        selected = Math.max(0, Math.min(selected, rows.size() - 1));
        if (selected < top)
        {
            top = selected;
        }
        else if (visible > 0 && selected >= top + visible)
        {
            top = selected - visible + 1;
        }
        top = Math.max(0, Math.min(top, Math.max(0, rows.size() - visible)));
        for (int i = top; i < rows.size() && i < top + visible; i++)
        {
            final String text = FlowTable.line(layout, rows.get(i));
            lines.add(i == selected ? line(width, INVERSE.bold(), pad(text, width)) :
                line(width, AttributedStyle.DEFAULT, text));
        }
        if (rows.isEmpty() && room > 1)
        {
            lines.add(line(width, AttributedStyle.DEFAULT.faint(), error == null ? "(no connections)" :
                "(no answer)"));
        }
    }

    private void renderRecord(final List<AttributedString> lines, final int width, final int height)
    {
        lines.add(line(width, INVERSE, pad("record of " + recordUid, width)));
        final int room = Math.max(0, height - CHROME - 1);
        for (int i = recordTop; i < record.size() && i < recordTop + room; i++)
        {
            lines.add(line(width, AttributedStyle.DEFAULT, record.get(i)));
        }
    }

    private String healthLine()
    {
        if (health == null)
        {
            return "health unknown (no /metrics)";
        }
        final StringBuilder text = new StringBuilder();
        text.append(String.format(Locale.ROOT, "%,.0f flows open", health.active()));
        if (health.capacity() > 0)
        {
            text.append(String.format(Locale.ROOT, " (%.2f %% of %,.0f)", health.active() * 100 / health.capacity(),
                health.capacity()));
        }
        text.append("  ").append(Double.isNaN(packetsPerSecond) ? "-" : String.format(Locale.ROOT, "%,.0f",
            packetsPerSecond)).append(" packets/s");
        text.append(String.format(Locale.ROOT, "  %,.0f packets  %,.0f dropped", health.packets(),
            health.dropped()));
        text.append(health.inputFinished() ? "  input finished" : "  receiving");
        return text.toString();
    }

    private static String pad(final String text, final int width)
    {
        return text.length() >= width ? text : text + " ".repeat(width - text.length());
    }

    private static AttributedString line(final int width, final AttributedStyle style, final String text)
    {
        final String fitted = text.length() > width ? FlowTable.cut(text, width) : text;
        return new AttributedStringBuilder().style(style).append(fitted).toAttributedString();
    }
}
