package dev.flowtracker.ingest.source.file;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Coverage-guided fuzzing of {@link PcapReader} (see {@link ReaderFuzzing} for what every input must satisfy, and
 * docs/reliability.md for how to fuzz longer). The normal test run replays the seeds and committed findings.
 */
class PcapReaderFuzzTest
{
    @MethodSource("seeds")
    @FuzzTest(maxDuration = "60s")
    void readsAnyFileOrStopsAtAnOffset(final byte[] file)
    {
        ReaderFuzzing.check(file, PcapReader::new, PcapTestWriter.FILE_HEADER_LENGTH,
            PcapTestWriter.RECORD_HEADER_LENGTH);
    }

    /** Slices of the sample capture, and small files in every layout the reader knows, some of them broken. */
    static Stream<byte[]> seeds()
    {
        final List<byte[]> seeds = new ArrayList<>();
        seeds.add(SampleCaptures.prefix(3));
        seeds.add(SampleCaptures.prefix(12));
        final List<SampleCaptures.Record> records = SampleCaptures.records(4);
        for (final boolean bigEndian : new boolean[] {false, true})
        {
            for (final boolean nanos : new boolean[] {false, true})
            {
                final PcapTestWriter writer =
                    new PcapTestWriter(bigEndian, nanos, 96, PcapTestWriter.LINKTYPE_ETHERNET);
                for (final SampleCaptures.Record record : records)
                {
                    writer.record(record.seconds(), nanos ? record.micros() * 1000 : record.micros(), record.frame(),
                        record.frame().length + 4);
                }
                seeds.add(writer.toByteArray());
            }
        }
        // Raw IP link type (with the FCS bits set in the link-type field), an empty record, a cut record.
        final byte[] frame = records.get(0).frame();
        seeds.add(new PcapTestWriter(false, false, 65_535, 0x1400_0000L | PcapTestWriter.LINKTYPE_RAW)
            .record(1, 2, java.util.Arrays.copyOfRange(frame, 14, frame.length)).record(1, 3, new byte[0])
            .recordHeader(1, 4, 100, 100).raw(new byte[10]).toByteArray());
        // A record longer than the snaplen, and one whose original length is absurd.
        seeds.add(new PcapTestWriter(true, true, 32, PcapTestWriter.LINKTYPE_ETHERNET).record(5, 6, frame)
            .record(7, 8, frame, 0xFFFF_FFFFL).toByteArray());
        return seeds.stream();
    }
}
