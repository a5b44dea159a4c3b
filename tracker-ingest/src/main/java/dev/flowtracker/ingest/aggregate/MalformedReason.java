package dev.flowtracker.ingest.aggregate;

import java.util.Locale;

/** Why an input message is not a flow record the aggregation can use: the label of the malformed-record counter. */
public enum MalformedReason
{
    /** A null or empty message value (a tombstone). */
    EMPTY,
    /** Not parseable as JSON. */
    NOT_JSON,
    /** JSON, but not an object. */
    NOT_OBJECT,
    /** {@code ts} or {@code duration} missing, not a number, negative or out of range. */
    BAD_TIMESTAMP,
    /** {@code tap}, {@code community_id}, {@code id.resp_h} or {@code id.resp_p} missing or of the wrong type. */
    MISSING_FIELD;

    private final String label = name().toLowerCase(Locale.ROOT);

    /** The metric label. */
    public String label()
    {
        return label;
    }
}
