package dev.bucketdrive.s3;

import java.net.URI;
import java.time.Duration;
import java.util.Objects;

/**
 * Everything that configures the S3 backend, immutable and validated. Credentials are not here: they
 * come from the AWS SDK's providers (the default chain, or the named {@code profile}).
 *
 * @param bucket           the bucket, which must exist
 * @param endpoint         {@code null} for AWS itself; otherwise the S3-compatible server
 * @param region           {@code null}: the SDK's region chain, or {@code us-east-1} for a custom endpoint
 * @param pathStyle        {@code http://host/bucket/key} rather than {@code http://bucket.host/key}
 * @param profile          a named profile of the shared AWS config files, {@code null} for the default chain
 * @param checksums        whether requests carry the SDK's flexible checksums
 * @param insecureTls      skip TLS certificate checks; only for a local endpoint with a self-signed cert
 * @param maxConnections   the HTTP connection pool size
 * @param connectTimeout   TCP connect timeout
 * @param attemptTimeout   one HTTP attempt may take this long before it counts as a transient failure
 * @param maxAttempts      attempts per call for transient failures (1 = no retry)
 * @param initialBackoff   pause before the first retry; doubles per retry with ±50 % jitter
 * @param maxBackoff       the longest pause between retries
 * @param circuitWindow    the circuit breaker looks at this many recent attempts …
 * @param circuitFailurePercent … and opens when this share of them failed transiently
 * @param circuitOpenFor   how long an open circuit refuses calls before it tries again
 * @param maxInFlight      the bulkhead: requests in flight at once
 * @param maxQueueWait     how long a request waits for a place in the bulkhead before it is refused
 */
public record S3Options(String bucket, URI endpoint, String region, boolean pathStyle, String profile,
                        ChecksumMode checksums, boolean insecureTls, int maxConnections,
                        Duration connectTimeout, Duration attemptTimeout, int maxAttempts,
                        Duration initialBackoff, Duration maxBackoff, int circuitWindow,
                        int circuitFailurePercent, Duration circuitOpenFor, int maxInFlight,
                        Duration maxQueueWait) {

    /** Whether the SDK adds CRC checksums (and aws-chunked trailers) to requests. */
    public enum ChecksumMode {
        /** Only where the operation requires one; what most S3-compatible servers accept. */
        WHEN_REQUIRED,
        /** Wherever the SDK supports it; what AWS itself accepts. */
        WHEN_SUPPORTED,
        /** WHEN_SUPPORTED for AWS, WHEN_REQUIRED for a custom endpoint. */
        AUTO
    }

    public S3Options {
        Objects.requireNonNull(bucket, "bucket");
        if (!bucket.matches("[a-zA-Z0-9._-]{1,255}")) {
            throw new IllegalArgumentException("not a bucket name: " + bucket);
        }
        if (endpoint != null && (endpoint.getScheme() == null || endpoint.getHost() == null
                || !(endpoint.getScheme().equals("http") || endpoint.getScheme().equals("https")))) {
            throw new IllegalArgumentException("endpoint must be an http(s) URL with a host: " + endpoint);
        }
        Objects.requireNonNull(checksums, "checksums");
        positive(maxConnections, "maxConnections");
        positive(maxAttempts, "maxAttempts");
        positive(circuitWindow, "circuitWindow");
        positive(maxInFlight, "maxInFlight");
        if (circuitFailurePercent < 1 || circuitFailurePercent > 100) {
            throw new IllegalArgumentException("circuitFailurePercent must be 1..100");
        }
        for (Duration d : new Duration[] {connectTimeout, attemptTimeout, initialBackoff, maxBackoff,
                circuitOpenFor, maxQueueWait}) {
            if (d == null || d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException("durations must be positive");
            }
        }
        if (maxBackoff.compareTo(initialBackoff) < 0) {
            throw new IllegalArgumentException("maxBackoff is shorter than initialBackoff");
        }
    }

    private static void positive(int value, String name) {
        if (value < 1) {
            throw new IllegalArgumentException(name + " must be at least 1");
        }
    }

    /** Whether request checksums are limited to the operations that require them. */
    boolean checksumsOnlyWhenRequired() {
        return switch (checksums) {
            case WHEN_REQUIRED -> true;
            case WHEN_SUPPORTED -> false;
            case AUTO -> endpoint != null && !endpoint.getHost().endsWith(".amazonaws.com");
        };
    }

    public static Builder builder(String bucket) {
        return new Builder(bucket);
    }

    public Builder toBuilder() {
        Builder b = new Builder(bucket);
        b.endpoint = endpoint;
        b.region = region;
        b.pathStyle = pathStyle;
        b.profile = profile;
        b.checksums = checksums;
        b.insecureTls = insecureTls;
        b.maxConnections = maxConnections;
        b.connectTimeout = connectTimeout;
        b.attemptTimeout = attemptTimeout;
        b.maxAttempts = maxAttempts;
        b.initialBackoff = initialBackoff;
        b.maxBackoff = maxBackoff;
        b.circuitWindow = circuitWindow;
        b.circuitFailurePercent = circuitFailurePercent;
        b.circuitOpenFor = circuitOpenFor;
        b.maxInFlight = maxInFlight;
        b.maxQueueWait = maxQueueWait;
        return b;
    }

    /** Defaults suit a drive on a desktop: patient with a flaky network, quick to notice a dead one. */
    public static final class Builder {
        private final String bucket;
        private URI endpoint;
        private String region;
        private boolean pathStyle;
        private String profile;
        private ChecksumMode checksums = ChecksumMode.AUTO;
        private boolean insecureTls;
        private int maxConnections = 64;
        private Duration connectTimeout = Duration.ofSeconds(5);
        private Duration attemptTimeout = Duration.ofSeconds(60);
        private int maxAttempts = 6;
        private Duration initialBackoff = Duration.ofMillis(200);
        private Duration maxBackoff = Duration.ofSeconds(10);
        private int circuitWindow = 20;
        private int circuitFailurePercent = 80;
        private Duration circuitOpenFor = Duration.ofSeconds(15);
        private int maxInFlight = 48;
        private Duration maxQueueWait = Duration.ofSeconds(60);

        private Builder(String bucket) {
            this.bucket = bucket;
        }

        public Builder endpoint(URI v) { endpoint = v; return this; }
        public Builder region(String v) { region = v; return this; }
        public Builder pathStyle(boolean v) { pathStyle = v; return this; }
        public Builder profile(String v) { profile = v; return this; }
        public Builder checksums(ChecksumMode v) { checksums = v; return this; }
        public Builder insecureTls(boolean v) { insecureTls = v; return this; }
        public Builder maxConnections(int v) { maxConnections = v; return this; }
        public Builder connectTimeout(Duration v) { connectTimeout = v; return this; }
        public Builder attemptTimeout(Duration v) { attemptTimeout = v; return this; }
        public Builder maxAttempts(int v) { maxAttempts = v; return this; }
        public Builder initialBackoff(Duration v) { initialBackoff = v; return this; }
        public Builder maxBackoff(Duration v) { maxBackoff = v; return this; }
        public Builder circuitWindow(int v) { circuitWindow = v; return this; }
        public Builder circuitFailurePercent(int v) { circuitFailurePercent = v; return this; }
        public Builder circuitOpenFor(Duration v) { circuitOpenFor = v; return this; }
        public Builder maxInFlight(int v) { maxInFlight = v; return this; }
        public Builder maxQueueWait(Duration v) { maxQueueWait = v; return this; }

        public S3Options build() {
            return new S3Options(bucket, endpoint, region, pathStyle, profile, checksums, insecureTls,
                    maxConnections, connectTimeout, attemptTimeout, maxAttempts, initialBackoff, maxBackoff,
                    circuitWindow, circuitFailurePercent, circuitOpenFor, maxInFlight, maxQueueWait);
        }
    }
}
