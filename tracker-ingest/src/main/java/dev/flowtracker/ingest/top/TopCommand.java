package dev.flowtracker.ingest.top;

import dev.flowtracker.ingest.metrics.BuildVersion;

import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.net.ssl.SSLContext;

import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code tracker top}: a terminal view of a running {@code tracker run}, polling its {@code /flows} and
 * {@code /metrics}; {@code --once} prints the table once to standard output. Runs on the calling thread.
 */
@Command(
    name = TopCommand.NAME,
    versionProvider = TopCommand.Version.class,
    synopsisHeading = "usage: ",
    customSynopsis = {
        "tracker top [--url URL] [--interval D] [--sort KEY] [--order desc|asc] [--ended] [--filter NAME=VALUE ...]",
        "            [--user USER --password-file FILE] [--cacert FILE] [--once [--limit N] [--width N]]"},
    descriptionHeading = "%n",
    description = {
        "a terminal view of a running tracker's connections",
        "",
        "Polls the /flows API of a running 'tracker run' (docs/http-api.md) and shows the connections as a table " +
            "fitted to the terminal, with the tracker's health from /metrics. Keys: q quit, s next sort, S reverse " +
            "the order, / filter (e.g. port=443 host=10.0.0.1), e ended connections, r refresh now, up/down select, " +
            "Enter the selected connection's record (Esc back). With --once, prints the table once as plain text " +
            "and exits."},
    optionListHeading = "%noptions:%n",
    footer = {"", "exit codes: 0 ok; 1 the tracker could not be asked (--once); 2 usage error, or a query the " +
        "tracker refused (--once)"})
public final class TopCommand implements Callable<Integer>
{
    public static final String NAME = "top";

    static final int OK = 0;
    static final int FAILED = 1;
    static final int USAGE = 2;

    private static final Pattern DURATION = Pattern.compile("(\\d+(?:\\.\\d+)?)(ms|s|m)?");

    @Option(names = "--url", paramLabel = "URL", description = "the tracker's HTTP address (default: ${DEFAULT-VALUE})")
    String url = "http://127.0.0.1:9127";

    @Option(names = "--interval", paramLabel = "D", description = "time between polls: 500ms, 2s, 1m (default: " +
        "${DEFAULT-VALUE})")
    String interval = "2s";

    @Option(names = "--sort", paramLabel = "KEY", description = "retransmission_ratio, rtt_max, bytes, packets, " +
        "duration or recent (default: ${DEFAULT-VALUE})")
    String sort = TopScreen.SORTS.getFirst();

    @Option(names = "--order", paramLabel = "ORDER", description = "desc (highest first) or asc (default: " +
        "${DEFAULT-VALUE})")
    String order = "desc";

    @Option(names = "--ended", description = "the recently ended connections instead of the active ones")
    boolean ended;

    @Option(names = "--filter", paramLabel = "NAME=VALUE", description = "a /flows filter: host, net, port, " +
        "conn_state, flag, min or tap (repeatable; also several in one, e.g. 'port=443 host=10.0.0.1')")
    List<String> filters = new ArrayList<>();

    @Option(names = "--user", paramLabel = "USER", description = "basic-auth user, for a tracker run with " +
        "--web-config")
    String user;

    @Option(names = "--password-file", paramLabel = "FILE", description = "a file holding the user's password")
    Path passwordFile;

    @Option(names = "--cacert", paramLabel = "FILE", description = "trust the PEM certificate(s) in FILE for an " +
        "https URL (a tracker's self-signed certificate, or its CA)")
    Path cacert;

    @Option(names = "--once", description = "print the table once to standard output, no terminal control, and " +
        "exit")
    boolean once;

    @Option(names = "--limit", paramLabel = "N", description = "with --once: most connections listed, 1 to 1000 " +
        "(default: 50)")
    Integer limit;

    @Option(names = "--width", paramLabel = "N", description = "with --once: fit the table to N columns (default: " +
        "$COLUMNS, else no limit)")
    Integer width;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "show this help")
    boolean help;

    @Option(names = {"-V", "--version"}, versionHelp = true, description = "print the version")
    boolean version;

    /** {@code --version}, as every command prints it. */
    static final class Version implements IVersionProvider
    {
        @Override
        public String[] getVersion()
        {
            return new String[] {BuildVersion.describe()};
        }
    }

    @Spec
    CommandSpec spec;

    private final PrintStream out;
    private final PrintStream err;

    public TopCommand(final PrintStream out, final PrintStream err)
    {
        this.out = out;
        this.err = err;
    }

    @Override
    public Integer call()
    {
        final URI base = base();
        final Duration every = duration(interval);
        if (!TopScreen.SORTS.contains(sort))
        {
            throw usage("--sort must be one of " + String.join(", ", TopScreen.SORTS) + ", not '" + sort + "'");
        }
        if (!order.equals("desc") && !order.equals("asc"))
        {
            throw usage("--order must be desc or asc, not '" + order + "'");
        }
        final Map<String, String> filterMap = new LinkedHashMap<>();
        for (final String filter : filters)
        {
            try
            {
                filterMap.putAll(TopScreen.parseFilters(filter));
            }
            catch (final IllegalArgumentException e)
            {
                throw usage("--filter: " + e.getMessage());
            }
        }
        if ((user == null) != (passwordFile == null))
        {
            throw usage("give --user and --password-file together");
        }
        if (!once && (limit != null || width != null))
        {
            throw usage((limit != null ? "--limit" : "--width") + " is for --once (the screen sets both)");
        }
        if (limit != null && (limit < 1 || limit > 1000))
        {
            throw usage("--limit must be from 1 to 1000, not " + limit);
        }
        if (width != null && width < 20)
        {
            throw usage("--width must be at least 20, not " + width);
        }
        final String password;
        try
        {
            password = passwordFile == null ? null : Files.readString(passwordFile).strip();
        }
        catch (final IOException e)
        {
            err.println("tracker top: cannot read --password-file " + passwordFile + ": " + e.getMessage());
            return FAILED;
        }
        if (cacert != null && !base.getScheme().equals("https"))
        {
            throw usage("--cacert is for an https URL");
        }
        final SSLContext tls;
        try
        {
            tls = cacert == null ? null : TrackerClient.trusting(cacert);
        }
        catch (final IOException | GeneralSecurityException e)
        {
            err.println("tracker top: cannot read --cacert " + cacert + ": " + e.getMessage());
            return FAILED;
        }
        final Duration timeout = every.compareTo(Duration.ofSeconds(5)) > 0 ? every : Duration.ofSeconds(5);
        final TrackerClient client = new TrackerClient(base, user, password, timeout, tls);
        final TopScreen screen = new TopScreen(client.base().toString(), interval, sort, order.equals("desc"),
            ended, filterMap);
        try
        {
            return once ? once(client, screen) : TerminalTop.run(screen, client, every, err);
        }
        catch (final InterruptedException e)
        {
            Thread.currentThread().interrupt();
            err.println("tracker top: interrupted");
            return FAILED;
        }
        catch (final IOException e)
        {
            err.println("tracker top: terminal error: " + e.getMessage());
            return FAILED;
        }
    }

    private int once(final TrackerClient client, final TopScreen screen) throws InterruptedException
    {
        try
        {
            final List<FlowRow> rows = client.flows(screen.query(limit == null ? 50 : limit));
            for (final String line : FlowTable.render(rows, width == null ? columns() : width))
            {
                out.println(line);
            }
            out.flush();
            return OK;
        }
        catch (final TrackerClient.Failure e)
        {
            err.println("tracker top: " + client.base() + ": " + e.getMessage() + (e.parameter == null ? "" :
                " (parameter " + e.parameter + ")"));
            return e.status == 400 ? USAGE : FAILED;
        }
    }

    /** {@code $COLUMNS} when it is a width, else 0 (no limit). */
    private static int columns()
    {
        final String columns = System.getenv("COLUMNS");
        try
        {
            return columns == null ? 0 : Math.max(20, Integer.parseInt(columns.strip()));
        }
        catch (final NumberFormatException e)
        {
            return 0;
        }
    }

    private URI base()
    {
        try
        {
            final URI base = new URI(url);
            if (base.getScheme() == null || !(base.getScheme().equals("http") || base.getScheme().equals("https")) ||
                base.getHost() == null)
            {
                throw usage("--url must be http://HOST:PORT or https://HOST:PORT, not '" + url + "'");
            }
            if (base.getRawQuery() != null || base.getRawPath() != null && !base.getRawPath().isEmpty() &&
                !base.getRawPath().equals("/"))
            {
                throw usage("--url is the tracker's address without a path, not '" + url + "'");
            }
            return base;
        }
        catch (final URISyntaxException e)
        {
            throw usage("--url is not a URL: '" + url + "'");
        }
    }

    private Duration duration(final String text)
    {
        final Matcher m = DURATION.matcher(text.strip().toLowerCase(Locale.ROOT));
        if (!m.matches())
        {
            throw usage("--interval must be a duration like 500ms, 2s or 1m, not '" + text + "'");
        }
        final double value = Double.parseDouble(m.group(1));
        final String unit = m.group(2) == null ? "s" : m.group(2);
        final double millis = value * switch (unit)
        {
            case "ms" -> 1;
            case "m" -> 60_000;
            default -> 1000;
        };
        if (millis < 100 || millis > 3_600_000)
        {
            throw usage("--interval must be from 100ms to 1h, not '" + text + "'");
        }
        return Duration.ofMillis((long)millis);
    }

    private ParameterException usage(final String problem)
    {
        return new ParameterException(spec.commandLine(), problem);
    }
}
