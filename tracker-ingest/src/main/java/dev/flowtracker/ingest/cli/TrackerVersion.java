package dev.flowtracker.ingest.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

import picocli.CommandLine.IVersionProvider;

/** {@code tracker --version}: the project version Maven filtered into {@code version.properties}. */
final class TrackerVersion implements IVersionProvider
{
    /** The version of this build, "unknown" when the resource was not filtered (classes outside Maven's build). */
    static String version()
    {
        try (InputStream in = TrackerVersion.class.getResourceAsStream("version.properties"))
        {
            if (in != null)
            {
                final Properties properties = new Properties();
                properties.load(in);
                final String version = properties.getProperty("version", "");
                if (!version.isEmpty() && !version.startsWith("${"))
                {
                    return version;
                }
            }
        }
        catch (final IOException e)
        {
            // unknown, as below
        }
        return "unknown";
    }

    @Override
    public String[] getVersion()
    {
        return new String[] {"tracker " + version() + " (Java " + Runtime.version() + ")"};
    }
}
