package dev.flowtracker.ingest.top;

import dev.flowtracker.ingest.top.FlowTable.Column;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The table of {@code tracker top} on fixed records: every column when there is room, fitted when there is not. */
class TopTableTest
{
    private final List<FlowRow> rows = TopRecords.rows();

    @Test
    void shouldReadTheFieldsOfAFlowRecord()
    {
        final FlowRow lossy = rows.get(0);
        assertEquals(TopRecords.LOSSY_UID, lossy.uid());
        assertEquals("10.0.0.2:40002", lossy.orig());
        assertEquals("10.0.0.9:443", lossy.resp());
        assertEquals(600, lossy.bytes());
        assertEquals(13, lossy.packets());
        assertEquals(2, lossy.retransmissions());
        assertEquals(2.0 / 13, lossy.retransmissionRatio(), 1e-12);
        assertEquals(0.001, lossy.rttMax(), 1e-12, "the larger side's");
        assertEquals("", lossy.endReason(), "open");
        assertEquals(0.2, rows.get(1).rttMax(), 1e-12, "one side without samples");
        final FlowRow v6 = rows.get(2);
        assertEquals("[2001:db8:aaaa:bbbb:cccc:dddd:eeee:1]:50000", v6.orig());
        assertTrue(Double.isNaN(v6.rttMax()));
        assertEquals("rst", v6.endReason());
    }

    @Test
    void shouldShowEveryColumnAlignedWhenThereIsRoom()
    {
        final List<String> lines = FlowTable.render(rows, 0);
        assertEquals(4, lines.size());
        assertEquals("UID                 ORIG                                         RESP              STATE  " +
            "HISTORY   DURATION  BYTES  PKTS  RETX%  RTT_MAX  END   TAP", lines.get(0));
        assertEquals("CLossyLossyLossy12  10.0.0.2:40002                               10.0.0.9:443      SF     " +
            "ShADadFf    0.250s    600    13  15.38   1.00ms  open  tap-01", lines.get(1));
        assertEquals("CBulkBulkBulkBulk1  10.0.0.1:40001                               10.0.0.9:80       S1     " +
            "ShADad       1h06m  1.33M   207   1.93    200ms  open  tap-01", lines.get(2));
        assertEquals("CSixSixSixSixSix12  [2001:db8:aaaa:bbbb:cccc:dddd:eeee:1]:50000  [2001:db8::9]:22  REJ    " +
            "Sr          0.000s      0     2   0.00        -  rst   tap-01", lines.get(3));
        final int width = lines.get(1).length();
        assertEquals(FlowTable.layout(rows, 0).width(), width);
        assertEquals(lines, FlowTable.render(rows, width), "exactly the room: nothing gives way");
    }

    @Test
    void shouldLeaveOutTheEndColumnWhileEveryConnectionIsOpen()
    {
        final List<Column> columns = FlowTable.layout(rows.subList(0, 2), 0).columns();
        assertFalse(columns.contains(Column.END));
        assertEquals(Column.values().length - 1, columns.size());
    }

    @Test
    void shouldDropTheLeastImportantColumnsFirstWhenNarrow()
    {
        final List<FlowRow> v4 = rows.subList(0, 2);
        final FlowTable.Layout lessTap = FlowTable.layout(v4, FlowTable.layout(v4, 0).width() - 2);
        assertEquals(List.of(Column.values()).subList(0, Column.values().length - 2), lessTap.columns(),
            "the tap, least important, went first (no END column: all open)");

        // An IPv6 endpoint is cut to the width of an IPv4 one before any column goes.
        assertEquals(List.of("UID                 ORIG                    RESP              STATE  DURATION  BYTES  " +
            "RETX%  RTT_MAX",
            "CLossyLossyLossy12  10.0.0.2:40002          10.0.0.9:443      SF       0.250s    600  15.38   1.00ms",
            "CBulkBulkBulkBulk1  10.0.0.1:40001          10.0.0.9:80       S1        1h06m  1.33M   1.93    200ms",
            "CSixSixSixSixSix12  [2001:db8:aaaa:~:50000  [2001:db8::9]:22  REJ      0.000s      0   0.00        -"),
            FlowTable.render(rows, 100));

        final FlowTable.Layout eighty = FlowTable.layout(rows, 80);
        assertTrue(eighty.width() <= 80, eighty.width() + " > 80");
        assertEquals(List.of(Column.UID, Column.ORIG, Column.RESP, Column.STATE, Column.PACKETS, Column.RETX),
            eighty.columns(), "the packets fit where the bytes went");
        for (final String line : FlowTable.render(rows, 80))
        {
            assertTrue(line.length() <= 80, line);
        }
    }

    @Test
    void shouldPutBackAColumnThatFitsAfterAWiderOneWasDropped()
    {
        // At 84 the duration (10 wide with its gap) goes, and the packets (6), less important, fit.
        final List<FlowRow> v4 = rows.subList(0, 2);
        final FlowTable.Layout layout = FlowTable.layout(v4, 84);
        assertTrue(layout.width() <= 84, Integer.toString(layout.width()));
        assertTrue(layout.columns().contains(Column.PACKETS) && !layout.columns().contains(Column.DURATION),
            layout.columns().toString());
    }

    @Test
    void shouldCutEveryLineToAVeryNarrowWidth()
    {
        for (final String line : FlowTable.render(rows, 30))
        {
            assertTrue(line.length() <= 30, line);
        }
        assertEquals("UID                 ORIG", FlowTable.render(rows, 30).get(0).substring(0, 24));
    }

    @Test
    void shouldFormatCountsDurationsAndRatiosShortly()
    {
        assertEquals("99999", FlowTable.count(99_999));
        assertEquals("100k", FlowTable.count(100_000));
        assertEquals("1.33M", FlowTable.count(1_334_567));
        assertEquals("12.3G", FlowTable.count(12_345_678_901L));
        assertEquals("0.250s", FlowTable.duration(0.25));
        assertEquals("1m40s", FlowTable.duration(100));
        assertEquals("1h06m", FlowTable.duration(4000.5));
        assertEquals("0.05ms", FlowTable.seconds(0.00005));
        assertEquals("200ms", FlowTable.seconds(0.2));
        assertEquals("1.500s", FlowTable.seconds(1.5));
        assertEquals("-", FlowTable.seconds(Double.NaN));
        assertEquals("15.38", FlowTable.percent(2.0 / 13));
        assertEquals("-", FlowTable.percent(Double.NaN));
        assertEquals("10.0.~:443", FlowTable.cutEndpoint("10.0.0.9:443", 10));
    }

    @Test
    void shouldSumTheHealthMetricsOverTheirLabels()
    {
        final Health health = Health.parse("""
            # HELP tracker_source_packets_total packets
            # TYPE tracker_source_packets_total counter
            tracker_source_packets_total{source="pcap",name="a"} 100.0
            tracker_source_packets_total{source="pcap",name="b"} 23.0
            tracker_packets_dropped_total{reason="ring_full"} 4.0
            tracker_flows_active{worker="0"} 3.0
            tracker_flows_active{worker="1"} 2.0
            tracker_flows_active_other 99.0
            tracker_flow_table_capacity 10000.0
            tracker_input_finished 1.0
            """);
        assertEquals(new Health(123, 4, 5, 10_000, true), health);
    }
}
