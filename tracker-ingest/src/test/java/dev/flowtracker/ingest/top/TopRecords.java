package dev.flowtracker.ingest.top;

import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/** Fixed records as {@code /flows} answers them: IPv4 and IPv6, open and ended, with and without RTT. */
final class TopRecords
{
    static final String BULK_UID = "CBulkBulkBulkBulk1";
    static final String LOSSY_UID = "CLossyLossyLossy12";
    static final String V6_UID = "CSixSixSixSixSix12";

    private static final ObjectMapper JSON = new ObjectMapper();

    private TopRecords()
    {
    }

    /** Three records: a bulk transfer, a lossy connection, an IPv6 connection without RTT samples. */
    static List<FlowRow> rows()
    {
        final List<FlowRow> rows = new ArrayList<>();
        rows.add(row(record(LOSSY_UID, "10.0.0.2", 40002, "10.0.0.9", 443, "SF", "ShADadFf", 0.25, 300, 300, 7, 6,
            1, 1, "0.001", "0.0005", "tap-01", "null")));
        rows.add(row(record(BULK_UID, "10.0.0.1", 40001, "10.0.0.9", 80, "S1", "ShADad", 4000.5, 100_000,
            1_234_567, 100, 107, 3, 1, "0.2", "null", "tap-01", "null")));
        rows.add(row(record(V6_UID, "2001:db8:aaaa:bbbb:cccc:dddd:eeee:1", 50000, "2001:db8::9", 22, "REJ", "Sr",
            0, 0, 0, 1, 1, 0, 0, "null", "null", "tap-01", "\"rst\"")));
        return rows;
    }

    static FlowRow row(final String json)
    {
        try
        {
            return FlowRow.of(JSON.readTree(json));
        }
        catch (final IOException e)
        {
            throw new UncheckedIOException(e);
        }
    }

    static String record(final String uid, final String origH, final int origP, final String respH, final int respP,
        final String state, final String history, final double duration, final long origPayload,
        final long respPayload, final long origPkts, final long respPkts, final long origRetx, final long respRetx,
        final String origRtt, final String respRtt, final String tap, final String endReason)
    {
        return "{\"ts\":1800000000.000001,\"uid\":\"" + uid + "\",\"id.orig_h\":\"" + origH + "\",\"id.orig_p\":" +
            origP + ",\"id.resp_h\":\"" + respH + "\",\"id.resp_p\":" + respP + ",\"proto\":\"tcp\",\"duration\":" +
            duration + ",\"conn_state\":\"" + state + "\",\"history\":\"" + history + "\",\"orig_pkts\":" +
            origPkts + ",\"resp_pkts\":" + respPkts + ",\"tcp\":{\"orig\":{\"payload_bytes\":" + origPayload +
            ",\"rtt\":{\"max\":" + origRtt + "},\"analysis\":{\"retransmission\":" + origRetx + "}},\"resp\":{" +
            "\"payload_bytes\":" + respPayload + ",\"rtt\":{\"max\":" + respRtt + "},\"analysis\":{" +
            "\"retransmission\":" + respRetx + "}},\"end_reason\":" + endReason + "},\"tap\":\"" + tap + "\"}";
    }
}
