package dev.flowtracker.bench.capture;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flowtracker.core.decode.DecodeEvent;
import dev.flowtracker.core.decode.DecodedPacket;
import dev.flowtracker.core.decode.PacketDecoder;
import dev.flowtracker.core.tcp.EndReason;
import dev.flowtracker.core.tcp.Lifecycle;
import dev.flowtracker.core.tcp.zeek.ZeekOptions;
import dev.flowtracker.ingest.analyze.OfflineAnalysis;
import dev.flowtracker.ingest.output.FlowRecordFormat;
import dev.flowtracker.ingest.source.file.CaptureReplay;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Our own analysis of a generated capture, as flow records (the JSON analyze writes), and a frame walker. */
final class Records
{
    private static final ObjectMapper JSON = new ObjectMapper();

    private Records()
    {
    }

    /** The shared sample capture (the module's tests run in tracker-bench/). */
    static Path sample()
    {
        return Path.of("../samples/sample.pcap").toAbsolutePath().normalize();
    }

    /** Flow records of {@code capture}, with checksums verified (as analyze does by default). */
    static List<ObjectNode> analyse(final Path capture, final Lifecycle lifecycle) throws IOException
    {
        final List<ObjectNode> records = new ArrayList<>();
        final FlowRecordFormat format = new FlowRecordFormat();
        final OfflineAnalysis analysis = new OfflineAnalysis(connection ->
        {
            try
            {
                records.add((ObjectNode)JSON.readTree(format.format(connection).toString()));
            }
            catch (final IOException e)
            {
                throw new UncheckedIOException(e);
            }
        }, lifecycle, ZeekOptions.DEFAULTS);
        CaptureReplay.read(capture, analysis);
        analysis.finish(EndReason.END_OF_INPUT);
        return records;
    }

    /** Decodes every frame of {@code capture} with checksum verification and hands each decoded packet over. */
    static long forEachPacket(final Path capture, final PacketVisitor visitor) throws IOException
    {
        final PacketDecoder decoder = new PacketDecoder();
        decoder.verifyChecksums(true);
        final DecodedPacket packet = new DecodedPacket();
        final long[] frames = new long[1];
        CaptureReplay.read(capture, frame ->
        {
            packet.timestampNanos = frame.timestampNanos();
            visitor.visit(decoder.decode(frame.segment(), frame.offset(), frame.capturedLength(), frame.wireLength(),
                frame.linkType(), packet), packet);
            frames[0]++;
        });
        return frames[0];
    }

    /** Receives each decoded frame; the packet is reused for the next. */
    @FunctionalInterface
    interface PacketVisitor
    {
        void visit(DecodeEvent event, DecodedPacket packet);
    }

    static String text(final JsonNode record, final String field)
    {
        return record.get(field).asText();
    }
}
