package dev.flowtracker.ingest.top;

import org.jline.utils.AttributedString;
import org.junit.jupiter.api.Test;

import java.time.LocalTime;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The keys of {@code tracker top} and the screen they lead to, without a terminal. */
class TopScreenTest
{
    private final TopScreen screen = new TopScreen("http://127.0.0.1:9127", "2s", "retransmission_ratio", true,
        false, Map.of());

    @Test
    void shouldCycleTheSortKeysAndReverseTheOrder()
    {
        assertEquals("sort=retransmission_ratio&order=desc&limit=20", screen.query(20));
        for (final String expected : List.of("rtt_max", "bytes", "packets", "duration", "recent",
            "retransmission_ratio"))
        {
            assertEquals(TopScreen.Action.REFRESH, screen.key('s'));
            assertEquals(expected, screen.sortKey());
        }
        assertEquals(TopScreen.Action.REFRESH, screen.key('S'));
        assertEquals("sort=retransmission_ratio&order=asc&limit=20", screen.query(20));
        screen.key('S');
        assertTrue(screen.descending());
    }

    @Test
    void shouldAskForEndedConnectionsAndBoundTheLimit()
    {
        assertEquals(TopScreen.Action.REFRESH, screen.key('e'));
        assertEquals("sort=retransmission_ratio&order=desc&ended=true&limit=1000", screen.query(5000));
        screen.key('e');
        assertEquals("sort=retransmission_ratio&order=desc&limit=1", screen.query(-3));
        assertEquals(24 - TopScreen.CHROME - 1, TopScreen.tableRows(24));
    }

    @Test
    void shouldApplyAFilterTypedAfterSlash()
    {
        assertEquals(TopScreen.Action.REDRAW, screen.key('/'));
        for (final char c : "port=443 host=10.0.0.1x".toCharArray())
        {
            screen.key(c);
        }
        screen.key(127); // backspace
        assertTrue(text(screen.render(120, 20)).contains("filter (NAME=VALUE ..., Enter applies, Esc cancels): " +
            "port=443 host=10.0.0.1_"));
        assertEquals(TopScreen.Action.REFRESH, screen.key('\r'));
        assertEquals("sort=retransmission_ratio&order=desc&port=443&host=10.0.0.1&limit=10", screen.query(10));
        assertTrue(text(screen.render(120, 20)).contains("filter port=443 host=10.0.0.1"));

        screen.key('/');
        screen.key('x');
        assertEquals(TopScreen.Action.REDRAW, screen.key(TopScreen.KEY_ESC));
        assertEquals("sort=retransmission_ratio&order=desc&port=443&host=10.0.0.1&limit=10", screen.query(10),
            "Esc leaves the filters as they were");

        screen.key('/');
        for (int i = 0; i < 40; i++)
        {
            screen.key(8);
        }
        for (final char c : "prot=1".toCharArray())
        {
            screen.key(c);
        }
        assertEquals(TopScreen.Action.REDRAW, screen.key('\n'), "a misspelt filter is not sent");
        assertTrue(text(screen.render(120, 20)).contains("unknown filter 'prot'"));
        assertEquals("sort=retransmission_ratio&order=desc&port=443&host=10.0.0.1&limit=10", screen.query(10));

        screen.key('/');
        for (int i = 0; i < 40; i++)
        {
            screen.key(127);
        }
        assertEquals(TopScreen.Action.REFRESH, screen.key('\r'));
        assertEquals("sort=retransmission_ratio&order=desc&limit=10", screen.query(10), "an empty line clears");
    }

    @Test
    void shouldParseFilterLines()
    {
        assertEquals(Map.of("port", "443", "net", "10.0.0.0/8", "conn_state", "SF"),
            TopScreen.parseFilters(" port=443&net=10.0.0.0/8, conn_state=SF "));
        assertEquals(Map.of(), TopScreen.parseFilters("  "));
        assertThrows(IllegalArgumentException.class, () -> TopScreen.parseFilters("port"));
        assertThrows(IllegalArgumentException.class, () -> TopScreen.parseFilters("=1"));
        assertThrows(IllegalArgumentException.class, () -> TopScreen.parseFilters("sort=bytes"));
    }

    @Test
    void shouldFillTheScreenWithinItsSizeAndFollowTheSelection()
    {
        final List<FlowRow> rows = TopRecords.rows();
        screen.update(rows, new Health(1000, 0, 3, 10_000, false), 1_000_000_000L, LocalTime.of(12, 0, 5));
        screen.update(rows, new Health(3000, 2, 3, 10_000, false), 3_000_000_000L, LocalTime.of(12, 0, 7));
        final List<AttributedString> lines = screen.render(100, 12);
        assertEquals(12, lines.size(), "the whole screen");
        for (final AttributedString line : lines)
        {
            assertTrue(line.columnLength() <= 100, line.toString());
        }
        assertTrue(lines.get(0).toString().contains("refreshed 12:00:07"), lines.get(0).toString());
        assertEquals("3 flows open (0.03 % of 10,000)  1,000 packets/s  3,000 packets  2 dropped  receiving",
            lines.get(1).toString());
        assertTrue(lines.get(3).toString().startsWith("UID "), lines.get(3).toString());
        assertTrue(lines.get(4).toString().startsWith(TopRecords.LOSSY_UID));
        assertTrue(lines.get(11).toString().startsWith("q quit"));

        assertEquals(TopRecords.LOSSY_UID, screen.selectedUid());
        screen.key(TopScreen.KEY_DOWN);
        screen.key(TopScreen.KEY_DOWN);
        screen.key(TopScreen.KEY_DOWN);
        assertEquals(TopRecords.V6_UID, screen.selectedUid(), "stops at the last row");
        screen.key(TopScreen.KEY_UP);
        assertEquals(TopRecords.BULK_UID, screen.selectedUid());
        screen.update(List.of(rows.get(1), rows.get(0)), null, 4_000_000_000L, LocalTime.of(12, 0, 9));
        assertEquals(TopRecords.BULK_UID, screen.selectedUid(), "the selection follows its connection");

        assertEquals(TopScreen.Action.OPEN, screen.key('\r'));
        screen.showRecord(TopRecords.BULK_UID, "{\n  \"uid\" : \"" + TopRecords.BULK_UID + "\"\n}");
        assertTrue(screen.showsRecord());
        assertTrue(text(screen.render(100, 12)).contains("record of " + TopRecords.BULK_UID));
        assertEquals(TopScreen.Action.REDRAW, screen.key('s'), "no sorting in the record pane");
        assertEquals("retransmission_ratio", screen.sortKey());
        screen.key(TopScreen.KEY_ESC);
        assertTrue(!screen.showsRecord());
        assertEquals(TopScreen.Action.QUIT, screen.key('q'));
    }

    @Test
    void shouldKeepTheRowsAndSayWhyWhenAPollFails()
    {
        screen.update(TopRecords.rows(), null, 1, LocalTime.of(12, 0));
        screen.failed(new TrackerClient.Failure(0, "unreachable: connection refused", null), LocalTime.of(12, 0, 2));
        final String text = text(screen.render(120, 20));
        assertTrue(text.contains("unreachable: connection refused"), text);
        assertTrue(text.contains("refreshed 12:00:02 (failed)"), text);
        assertTrue(text.contains(TopRecords.LOSSY_UID), "the last answer stays: " + text);

        screen.failed(new TrackerClient.Failure(400, "the tracker answered 400: bad port", "port"),
            LocalTime.of(12, 0, 4));
        assertNull(screen.selectedUid(), "a refused query has no rows");
        assertTrue(text(screen.render(120, 20)).contains("bad port (parameter port)"));
    }

    private static String text(final List<AttributedString> lines)
    {
        final StringBuilder text = new StringBuilder();
        lines.forEach(line -> text.append(line).append('\n'));
        return text.toString();
    }
}
