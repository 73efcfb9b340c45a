package dev.bucketdrive.core.store;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * What HEAD tells about an object.
 *
 * @param etag         the server's entity tag, exactly as the server gave it (an opaque token: pass it
 *                     back in conditions unchanged)
 * @param metadata     user metadata, names in lower case without the {@code x-amz-meta-} prefix
 * @param contentType  the content type, or {@code null} when the server has none
 */
public record ObjectInfo(String key, long size, String etag, Instant lastModified,
                         Map<String, String> metadata, String contentType) {
    public ObjectInfo {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(etag, "etag");
        Objects.requireNonNull(lastModified, "lastModified");
        metadata = Map.copyOf(metadata);
    }
}
