package dev.flowtracker.ingest.http;

import at.favre.lib.crypto.bcrypt.BCrypt;
import at.favre.lib.crypto.bcrypt.LongPasswordStrategies;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * TLS and basic-auth settings for the HTTP server, read from a web-config file in the format Prometheus exporters
 * use (exporter-toolkit):
 *
 * <pre>
 * tls_server_config:
 *   cert_file: /etc/tracker/tls.crt     # PEM certificate chain
 *   key_file: /etc/tracker/tls.key      # PEM private key (PKCS#8)
 * basic_auth_users:
 *   prometheus: $2y$10$...              # bcrypt hash of the password
 * </pre>
 *
 * Relative paths are relative to the file's directory. Unknown keys are an error (a typo must not silently turn
 * authentication off). The configuration is immutable after loading; the cache of verified credentials is a
 * concurrent set. Shared by the server's threads: {@link #check} runs on the event loop, {@link #verify} (bcrypt)
 * on the server's password thread.
 */
public final class WebConfig
{
    /** Plain HTTP, no authentication. */
    public static final WebConfig NONE = new WebConfig(null, Map.of());
    /** Passwords over 72 bytes are cut there, as htpasswd and Go's bcrypt do (the default would throw). */
    private static final BCrypt.Verifyer BCRYPT = BCrypt.verifyer(BCrypt.Version.VERSION_2A,
        LongPasswordStrategies.truncate(BCrypt.Version.VERSION_2A));
    private static final int MAX_VERIFIED = 64;
    private static final Set<String> TOP_LEVEL_KEYS = Set.of("tls_server_config", "basic_auth_users",
        "http_server_config");

    private final SslContext sslContext;
    /** User to bcrypt hash. */
    private final Map<String, String> users;
    /** Compared against when the user is unknown, so that costs one bcrypt comparison too. */
    private final String dummyHash;
    /**
     * SHA-256 digests of Authorization headers already verified: bcrypt is slow on purpose, a scraper sends the
     * same one each time. Only successes, so guessers cannot push a scraper's entry out.
     */
    private final Set<String> verified = ConcurrentHashMap.newKeySet();
    private final LongAdder comparisons = new LongAdder();

    private WebConfig(final SslContext sslContext, final Map<String, String> users)
    {
        this.sslContext = sslContext;
        this.users = users;
        this.dummyHash = dummyHash(users);
    }

    /**
     * Reads a web-config file.
     *
     * @throws IOException with a one-line message naming the problem (missing file, bad YAML, unknown key, a
     *                     certificate or key that cannot be read, a password that is not a bcrypt hash).
     */
    public static WebConfig load(final Path file) throws IOException
    {
        final JsonNode root;
        try
        {
            root = new ObjectMapper(new YAMLFactory()).readTree(Files.readString(file, StandardCharsets.UTF_8));
        }
        catch (final NoSuchFileException e)
        {
            throw new IOException("no such file");
        }
        catch (final com.fasterxml.jackson.core.JacksonException e)
        {
            throw new IOException("not valid YAML: " + e.getOriginalMessage().replaceAll("\\s+", " ").strip());
        }
        if (root == null || root.isMissingNode() || root.isNull())
        {
            return NONE;
        }
        if (!root.isObject())
        {
            throw new IOException("expected a mapping with tls_server_config and/or basic_auth_users");
        }
        for (final Iterator<String> keys = root.fieldNames(); keys.hasNext(); )
        {
            final String key = keys.next();
            if (!TOP_LEVEL_KEYS.contains(key))
            {
                throw new IOException("unknown key '" + key + "' (expected tls_server_config, basic_auth_users)");
            }
        }
        final Path base = file.toAbsolutePath().getParent();
        SslContext ssl = null;
        final JsonNode tls = root.get("tls_server_config");
        if (tls != null && !tls.isNull())
        {
            final Path cert = path(base, tls, "cert_file");
            final Path key = path(base, tls, "key_file");
            try
            {
                ssl = SslContextBuilder.forServer(cert.toFile(), key.toFile()).build();
            }
            catch (final Exception e)
            {
                throw new IOException("tls_server_config: cannot use " + cert + " and " + key + ": " + e.getMessage());
            }
        }
        final Map<String, String> users = new TreeMap<>();
        final JsonNode auth = root.get("basic_auth_users");
        if (auth != null && !auth.isNull())
        {
            if (!auth.isObject())
            {
                throw new IOException("basic_auth_users must map user names to bcrypt hashes");
            }
            for (final Map.Entry<String, JsonNode> entry : auth.properties())
            {
                final String hash = entry.getValue().asText("");
                if (!hash.matches("\\$2[abxy]?\\$\\d\\d\\$[./A-Za-z0-9]{53}"))
                {
                    throw new IOException("basic_auth_users: the password of '" + entry.getKey() +
                        "' is not a bcrypt hash (make one with: htpasswd -nbBC 10 '' PASSWORD | tr -d ':\\n')");
                }
                users.put(entry.getKey(), hash);
            }
        }
        return new WebConfig(ssl, Map.copyOf(users));
    }

    private static Path path(final Path base, final JsonNode section, final String key) throws IOException
    {
        final JsonNode value = section.get(key);
        if (value == null || value.asText("").isEmpty())
        {
            throw new IOException("tls_server_config needs " + key);
        }
        final Path path = base.resolve(value.asText());
        if (!Files.isReadable(path))
        {
            throw new IOException("tls_server_config " + key + " " + path + ": cannot read it");
        }
        return path;
    }

    /** The server's TLS context, or null for plain HTTP. */
    SslContext sslContext()
    {
        return sslContext;
    }

    /** Whether the server speaks TLS. */
    public boolean tls()
    {
        return sslContext != null;
    }

    /** Whether requests need a user and password. */
    public boolean requiresAuthentication()
    {
        return !users.isEmpty();
    }

    /** What {@link #check} can tell without bcrypt. */
    enum Check
    {
        /** No authentication configured, or credentials verified before. */
        AUTHORIZED,
        /** No credentials, or not basic ones: refused without a bcrypt comparison (nothing about users leaks). */
        DENIED,
        /** Only a bcrypt comparison can tell: call {@link #verify} off the event loop. */
        VERIFY
    }

    /** Decides what needs no bcrypt: cheap, safe on the event loop. */
    Check check(final String authorization)
    {
        if (users.isEmpty())
        {
            return Check.AUTHORIZED;
        }
        if (authorization == null || !authorization.regionMatches(true, 0, "Basic ", 0, 6))
        {
            return Check.DENIED;
        }
        return verified.contains(digest(authorization)) ? Check.AUTHORIZED : Check.VERIFY;
    }

    /**
     * Verifies basic credentials with one bcrypt comparison, whatever the user: an unknown user is compared
     * against a dummy hash of the configured cost, so the answer takes as long as a known user's wrong password
     * and its timing does not reveal which user names exist (as exporter-toolkit does). Verified credentials are
     * cached so a scraper pays for bcrypt once. Slow on purpose (tens of milliseconds): never on the event loop.
     */
    boolean verify(final String authorization)
    {
        final String decoded;
        try
        {
            decoded = new String(Base64.getDecoder().decode(authorization.substring(6).trim()), StandardCharsets.UTF_8);
        }
        catch (final IllegalArgumentException | IndexOutOfBoundsException e)
        {
            return false;
        }
        final int colon = decoded.indexOf(':');
        if (colon < 0)
        {
            return false;
        }
        final String hash = users.get(decoded.substring(0, colon));
        comparisons.increment();
        final boolean matches = BCRYPT.verify(decoded.substring(colon + 1).toCharArray(),
            hash == null ? dummyHash : hash).verified;
        final boolean ok = matches && hash != null;
        if (ok && verified.size() < MAX_VERIFIED)
        {
            verified.add(digest(authorization));
        }
        return ok;
    }

    /** bcrypt comparisons made so far, for tests: every checked password costs exactly one. */
    long bcryptComparisons()
    {
        return comparisons.sum();
    }

    /** The cache holds digests, not passwords. */
    private static String digest(final String authorization)
    {
        try
        {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                .digest(authorization.getBytes(StandardCharsets.UTF_8)));
        }
        catch (final NoSuchAlgorithmException e)
        {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    /** A hash of a random password at the highest cost among the users', so a miss costs what a hit does. */
    private static String dummyHash(final Map<String, String> users)
    {
        if (users.isEmpty())
        {
            return null;
        }
        final int cost = users.values().stream().mapToInt(hash -> Integer.parseInt(hash.split("\\$")[2])).max()
            .orElseThrow();
        final byte[] password = new byte[16];
        new SecureRandom().nextBytes(password);
        return BCrypt.withDefaults().hashToString(cost, HexFormat.of().formatHex(password).toCharArray());
    }
}
