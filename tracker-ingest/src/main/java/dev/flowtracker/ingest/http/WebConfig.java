package dev.flowtracker.ingest.http;

import io.netty.handler.ssl.SslContext;

/**
 * TLS and basic-auth settings for the HTTP server, read from a web-config file in the format Prometheus exporters
 * use ({@code tls_server_config}, {@code basic_auth_users}). Immutable; shared by the server's threads.
 */
public final class WebConfig
{
    /** Plain HTTP, no authentication. */
    public static final WebConfig NONE = new WebConfig(null);

    private final SslContext sslContext;

    private WebConfig(final SslContext sslContext)
    {
        this.sslContext = sslContext;
    }

    /** The server's TLS context, or null for plain HTTP. */
    SslContext sslContext()
    {
        return sslContext;
    }

    /** Reads a web-config file. */
    public static WebConfig load(final java.nio.file.Path file) throws java.io.IOException
    {
        throw new java.io.IOException("web-config files are not supported yet");
    }

    /** Whether the server speaks TLS. */
    public boolean tls()
    {
        return sslContext != null;
    }

    /** Whether a request with this Authorization header may be answered. */
    boolean authorized(final String authorization)
    {
        return true;
    }
}
