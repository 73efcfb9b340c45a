package dev.bucketdrive.core.store;

import java.util.Objects;

/** A part stored in a multipart upload, as CompleteMultipartUpload needs it. */
public record CompletedPart(int partNumber, String etag) {
    public CompletedPart {
        Objects.requireNonNull(etag, "etag");
    }
}
