package dev.bucketdrive.core.store;

import java.util.Objects;

/** A multipart upload in progress: the target key and the server's upload id. */
public record MultipartUpload(String key, String uploadId) {
    public MultipartUpload {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(uploadId, "uploadId");
    }
}
