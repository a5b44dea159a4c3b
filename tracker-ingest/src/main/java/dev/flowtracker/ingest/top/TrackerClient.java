package dev.flowtracker.ingest.top;

import com.fasterxml.jackson.core.StreamWriteFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;

import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManagerFactory;

/**
 * Asks a running tracker's HTTP API for flows, one record and its health ({@code docs/http-api.md}), with timeouts
 * and, under {@code --web-config}, basic auth. Every failure becomes a {@link Failure} whose message says what
 * happened in one line ("unreachable: connection refused"). Used on the command's thread.
 */
final class TrackerClient
{
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Prints a record as it came: exact decimals ({@code ts} in microseconds, not 1.79E9), indented. */
    private static final ObjectMapper RECORD = JsonMapper.builder()
        .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
        .configure(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES, false)
        .enable(StreamWriteFeature.WRITE_BIGDECIMAL_AS_PLAIN)
        .enable(SerializationFeature.INDENT_OUTPUT)
        .build();
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(2);

    private final HttpClient client;
    private final URI base;
    private final String authorization;
    private final Duration timeout;

    /** A request the tracker did not answer as asked. */
    static final class Failure extends Exception
    {
        private static final long serialVersionUID = 1L;

        /** The HTTP status the tracker answered, or 0 when it did not answer. */
        final int status;
        /** The query parameter a 400 named, or null. */
        final String parameter;

        Failure(final int status, final String message, final String parameter)
        {
            super(message);
            this.status = status;
            this.parameter = parameter;
        }
    }

    /**
     * A client of the tracker at {@code base} ({@code http://host:port}), with basic-auth credentials when
     * {@code user} is not null, each request given {@code timeout} to answer; {@code tls} (or null: the JDK's
     * default trust) checks an https tracker's certificate.
     */
    TrackerClient(final URI base, final String user, final String password, final Duration timeout,
        final SSLContext tls)
    {
        final HttpClient.Builder builder = HttpClient.newBuilder().connectTimeout(CONNECT_TIMEOUT);
        if (tls != null)
        {
            builder.sslContext(tls);
        }
        this.client = builder.build();
        final String text = base.toString();
        this.base = URI.create(text.endsWith("/") ? text.substring(0, text.length() - 1) : text);
        this.authorization = user == null ? null : "Basic " + Base64.getEncoder().encodeToString(
            (user + ":" + password).getBytes(StandardCharsets.UTF_8));
        this.timeout = timeout;
    }

    /** TLS that trusts the PEM certificates in {@code file} (a tracker's self-signed one, or its CA's). */
    static SSLContext trusting(final Path file) throws IOException, GeneralSecurityException
    {
        final KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
        trust.load(null, null);
        try (InputStream in = Files.newInputStream(file))
        {
            int i = 0;
            for (final Certificate certificate : CertificateFactory.getInstance("X.509").generateCertificates(in))
            {
                trust.setCertificateEntry("tracker-" + i++, certificate);
            }
            if (i == 0)
            {
                throw new GeneralSecurityException("no certificate in it");
            }
        }
        final TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        factory.init(trust);
        final SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, factory.getTrustManagers(), null);
        return context;
    }

    URI base()
    {
        return base;
    }

    /** The flows {@code /flows?query} lists, in its order. */
    List<FlowRow> flows(final String query) throws Failure, InterruptedException
    {
        final JsonNode answer = json(get("/flows?" + query));
        final List<FlowRow> rows = new ArrayList<>(answer.size());
        answer.forEach(record -> rows.add(FlowRow.of(record)));
        return rows;
    }

    /** The record of connection {@code uid}, pretty-printed. */
    String record(final String uid) throws Failure, InterruptedException
    {
        final String body = get("/flows/" + URLEncoder.encode(uid, StandardCharsets.UTF_8));
        try
        {
            return RECORD.writeValueAsString(RECORD.readTree(body));
        }
        catch (final IOException e)
        {
            throw new Failure(0, "cannot print the record: " + e.getMessage(), null);
        }
    }

    /** The tracker's health from {@code /metrics}. */
    Health health() throws Failure, InterruptedException
    {
        return Health.parse(get("/metrics"));
    }

    /** The query string of {@code parameters}, in their order, each value percent-encoded. */
    static String query(final Map<String, String> parameters)
    {
        final StringBuilder query = new StringBuilder();
        parameters.forEach((name, value) ->
        {
            if (!query.isEmpty())
            {
                query.append('&');
            }
            query.append(name).append('=').append(URLEncoder.encode(value, StandardCharsets.UTF_8));
        });
        return query.toString();
    }

    private String get(final String path) throws Failure, InterruptedException
    {
        final HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + path)).timeout(timeout)
            .header("Accept", "application/json, text/plain");
        if (authorization != null)
        {
            request.header("Authorization", authorization);
        }
        final HttpResponse<String> response;
        try
        {
            response = client.send(request.build(), HttpResponse.BodyHandlers.ofString());
        }
        catch (final HttpTimeoutException e)
        {
            throw new Failure(0, "no answer within " + timeout.toMillis() / 1000.0 + " s", null);
        }
        catch (final ConnectException e)
        {
            throw new Failure(0, "unreachable: " + (e.getMessage() == null ? "connection refused" :
                e.getMessage().toLowerCase(java.util.Locale.ROOT)), null);
        }
        catch (final SSLException e)
        {
            throw new Failure(0, "TLS failed: " + e.getMessage() + " (--cacert FILE trusts a self-signed " +
                "certificate)", null);
        }
        catch (final IOException e)
        {
            throw new Failure(0, "unreachable: " + (e.getMessage() == null ? e.getClass().getSimpleName() :
                e.getMessage()), null);
        }
        if (response.statusCode() != 200)
        {
            throw failure(response);
        }
        return response.body();
    }

    private static Failure failure(final HttpResponse<String> response)
    {
        final int status = response.statusCode();
        if (status == 401)
        {
            return new Failure(status, "unauthorized (401): give --user and --password-file", null);
        }
        try
        {
            final JsonNode error = JSON.readTree(response.body());
            if (error != null && error.path("error").isTextual())
            {
                final String parameter = error.path("parameter").isTextual() ? error.path("parameter").asText() :
                    null;
                return new Failure(status, "the tracker answered " + status + ": " + error.path("error").asText(),
                    parameter);
            }
        }
        catch (final IOException e)
        {
            // a plain-text answer: said below
        }
        return new Failure(status, "the tracker answered " + status + ": " + response.body().strip(), null);
    }

    private static JsonNode json(final String body) throws Failure
    {
        try
        {
            return JSON.readTree(body);
        }
        catch (final IOException e)
        {
            throw new Failure(0, "not JSON: " + e.getMessage(), null);
        }
    }
}
