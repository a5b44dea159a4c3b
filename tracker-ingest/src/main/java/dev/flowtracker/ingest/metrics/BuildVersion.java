package dev.flowtracker.ingest.metrics;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/**
 * The project version Maven filtered into {@code version.properties} at build time: what {@code tracker --version}
 * prints and {@code tracker_build_info} carries. Static; any thread.
 */
public final class BuildVersion
{
    private static final String VERSION = read();

    private BuildVersion()
    {
    }

    /** The version of this build, "unknown" when the resource was not filtered (classes outside Maven's build). */
    public static String version()
    {
        return VERSION;
    }

    /** What {@code --version} prints: the build's version and the Java runtime's. */
    public static String describe()
    {
        return "tracker " + VERSION + " (Java " + Runtime.version() + ")";
    }

    private static String read()
    {
        try (InputStream in = BuildVersion.class.getResourceAsStream("version.properties"))
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
}
