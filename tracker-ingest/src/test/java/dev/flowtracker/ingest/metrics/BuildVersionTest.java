package dev.flowtracker.ingest.metrics;

import dev.flowtracker.core.flow.FlowLimits;
import dev.flowtracker.core.tcp.Lifecycle;
import dev.flowtracker.core.tcp.zeek.ZeekOptions;
import dev.flowtracker.ingest.output.RecordWriter;
import dev.flowtracker.ingest.pipeline.Pipeline;
import dev.flowtracker.ingest.source.PacketSource;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** The build's real version, as Maven filtered it, in {@code tracker_build_info} (it once said "dev"). */
class BuildVersionTest
{
    @Test
    void shouldServeTheBuildsVersion()
    {
        final String version = BuildVersion.version();
        assertTrue(version.matches("\\d+\\.\\d+\\.\\d+(-SNAPSHOT)?"), version);
        final Pipeline pipeline = new Pipeline(1, 1024, true, Lifecycle.ZEEK, ZeekOptions.DEFAULTS,
            FlowLimits.builder().maxFlows(100).build(), worker -> connection ->
            {
            });
        try (RecordWriter records = RecordWriter.toStream(new ByteArrayOutputStream());
             TrackerMetrics metrics = new TrackerMetrics(new TrackerMetrics.Parts(pipeline, List.<PacketSource>of(),
                 new FlowEndCounters[] {new FlowEndCounters()}, records, 100, pipeline::finished)))
        {
            final String exposition = metrics.scrape("text/plain").body();
            assertTrue(exposition.contains("tracker_build_info{java_version=\"" + Runtime.version() + "\",version=\"" +
                version + "\"} 1"), exposition.lines().filter(l -> l.contains("build_info")).toList().toString());
        }
        finally
        {
            pipeline.finish();
        }
    }
}
