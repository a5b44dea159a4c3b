package dev.flowtracker.ingest.corpus;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Reading every corpus capture: we read exactly as many frames as tshark, and stop with an error (naming the
 * file and a byte offset) exactly where tshark reports a cut-short, damaged or unsupported file.
 */
class CorpusReadTest
{
    @Test
    void shouldReadTheSameFramesAsTsharkAndFailOnTheSameFiles() throws Exception
    {
        final Path corpus = Corpus.requireCorpus();
        final List<String> problems = new ArrayList<>();
        int files = 0;
        int failing = 0;
        for (final Path oracleFile : Corpus.oracleFiles(corpus))
        {
            files++;
            final JsonNode oracle = Corpus.readJson(oracleFile);
            final Path capture = Corpus.captureOf(corpus, oracleFile);
            final Corpus.Analysis analysis = Corpus.analyse(capture);
            final long expectedFrames = oracle.get("totals").get("frames").asLong();
            final boolean tsharkFailed = oracle.get("tshark_rc").asInt() != 0;
            failing += tsharkFailed ? 1 : 0;
            final String name = corpus.relativize(capture).toString();
            if (analysis.frames() != expectedFrames)
            {
                problems.add(name + ": read " + analysis.frames() + " frames, tshark " + expectedFrames);
            }
            if (tsharkFailed != (analysis.error() != null))
            {
                problems.add(name + ": our error '" + analysis.error() + "', tshark rc " + oracle.get("tshark_rc"));
            }
            if (analysis.error() != null && !(analysis.error().contains(capture.toString()) &&
                analysis.error().contains("at byte offset ")))
            {
                problems.add(name + ": error does not name the file and offset: " + analysis.error());
            }
        }
        System.out.println("corpus read: " + files + " files, " + failing + " that tshark rejects, problems: " +
            problems);
        assertEquals(List.of(), problems);
    }
}
