package dev.flowtracker.ingest.http;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * The live page served at {@code /}: one self-contained HTML file (inline style and script, nothing fetched from
 * elsewhere) that lists the worst connections through {@code /flows} with the same filters and sorts, and the
 * tracker's health from {@code /metrics}, refreshing itself every few seconds. Read once from the class path;
 * immutable after.
 */
final class LivePage
{
    private static final byte[] HTML = load();

    private LivePage()
    {
    }

    /** The page's bytes (UTF-8); shared, never to be modified. */
    static byte[] html()
    {
        return HTML;
    }

    private static byte[] load()
    {
        try (InputStream in = LivePage.class.getResourceAsStream("live.html"))
        {
            if (in == null)
            {
                throw new IllegalStateException("live.html is missing from the class path");
            }
            return in.readAllBytes();
        }
        catch (final IOException e)
        {
            throw new UncheckedIOException(e);
        }
    }
}
