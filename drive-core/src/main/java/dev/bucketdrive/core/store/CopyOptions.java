package dev.bucketdrive.core.store;

import java.util.Map;

/**
 * How a server-side copy is made.
 *
 * @param sourceIfMatch   copy only if the source still has this ETag; {@code null} for any
 * @param replaceMetadata {@code null} keeps the source's metadata and content type; otherwise the
 *                        target gets exactly this metadata and {@code contentType}
 */
public record CopyOptions(String sourceIfMatch, Map<String, String> replaceMetadata, String contentType) {

    public static final CopyOptions KEEP_METADATA = new CopyOptions(null, null, null);

    public CopyOptions {
        replaceMetadata = replaceMetadata == null ? null : Map.copyOf(replaceMetadata);
    }
}
