package dev.flowtracker.ingest.analyze;

import dev.flowtracker.core.tcp.EndReason;
import dev.flowtracker.core.tcp.TcpConnection;
import dev.flowtracker.ingest.source.file.CaptureReplay;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A capture larger than 2 GiB is read to its end through the memory mapping (offsets are longs). The file is
 * sparse: each record writes only its headers, its 256 KiB body is a hole, so the test costs little disk.
 */
class LargeCaptureFileTest
{
    private static final int RECORD_BODY = 262_144;
    private static final int RECORDS = 8_300;
    private static final long START_SECONDS = 1_700_000_000L;

    @Test
    void shouldReadEveryRecordOfAFileLargerThanTwoGibibytes(@TempDir final Path dir) throws IOException
    {
        final Path file = dir.resolve("large.pcap");
        writeSparseCapture(file);
        assertTrue(Files.size(file) > (1L << 31) + (1L << 20), "file must exceed 2 GiB");

        final List<TcpConnection> connections = new ArrayList<>();
        final OfflineAnalysis analysis = new OfflineAnalysis(connections::add);
        CaptureReplay.read(file, analysis);
        analysis.finish(EndReason.END_OF_INPUT);

        assertEquals(RECORDS, analysis.stats().frames());
        assertEquals(RECORDS, analysis.stats().tcpSegments());
        assertEquals(1, connections.size());
        final TcpConnection connection = connections.getFirst();
        assertEquals(RECORDS / 2, connection.originator().packets());
        assertEquals(RECORDS / 2, connection.responder().packets());
        assertEquals((START_SECONDS + RECORDS - 1) * 1_000_000_000L, connection.lastTimestampNanos());
    }

    private static void writeSparseCapture(final Path file) throws IOException
    {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
            StandardOpenOption.SPARSE))
        {
            final ByteBuffer header = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
            header.putInt(0xA1B2C3D4).putShort((short)2).putShort((short)4).putInt(0).putInt(0)
                .putInt(RECORD_BODY).putInt(1).flip();
            channel.write(header, 0);
            long position = 24;
            for (int i = 0; i < RECORDS; i++)
            {
                final ByteBuffer record = ByteBuffer.allocate(16 + 54).order(ByteOrder.LITTLE_ENDIAN);
                record.putInt((int)(START_SECONDS + i)).putInt(0).putInt(RECORD_BODY).putInt(RECORD_BODY);
                record.order(ByteOrder.BIG_ENDIAN);
                putFrame(record, i % 2 == 0, i);
                record.flip();
                channel.write(record, position);
                position += 16 + RECORD_BODY;
            }
            // The last record's body must exist on disk as bytes (a hole at the end would shorten the file).
            channel.write(ByteBuffer.wrap(new byte[1]), position - 1);
        }
    }

    /** Ethernet + IPv4 (total length 0: a TSO capture, the frame is the datagram) + TCP ACK. */
    private static void putFrame(final ByteBuffer b, final boolean fromClient, final int index)
    {
        b.put(new byte[12]).putShort((short)0x0800);
        b.put((byte)0x45).put((byte)0).putShort((short)0).putInt(0).put((byte)64).put((byte)6).putShort((short)0);
        final int client = 0x0A000001;
        final int server = 0x0A000002;
        b.putInt(fromClient ? client : server).putInt(fromClient ? server : client);
        b.putShort((short)(fromClient ? 40000 : 80)).putShort((short)(fromClient ? 80 : 40000));
        b.putInt(1000 + index).putInt(2000).put((byte)0x50).put((byte)0x10).putShort((short)65535).putInt(0);
    }
}
