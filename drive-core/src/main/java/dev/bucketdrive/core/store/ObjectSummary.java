package dev.bucketdrive.core.store;

import java.time.Instant;
import java.util.Objects;

/** One object in a listing: what ListObjectsV2 tells without a HEAD. */
public record ObjectSummary(String key, long size, String etag, Instant lastModified) {
    public ObjectSummary {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(lastModified, "lastModified");
    }
}
