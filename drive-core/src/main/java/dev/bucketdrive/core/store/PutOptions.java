package dev.bucketdrive.core.store;

import java.util.Map;

/**
 * How an object is written.
 *
 * @param contentType {@code null} for the server's default
 * @param metadata    user metadata, lower-case names without {@code x-amz-meta-}
 * @param condition   applied by PUT and by CompleteMultipartUpload; ignored by CreateMultipartUpload
 */
public record PutOptions(String contentType, Map<String, String> metadata, WriteCondition condition) {

    public static final PutOptions DEFAULT = new PutOptions(null, Map.of(), WriteCondition.NONE);

    public PutOptions {
        metadata = Map.copyOf(metadata);
        condition = condition == null ? WriteCondition.NONE : condition;
    }

    public PutOptions withCondition(WriteCondition newCondition) {
        return new PutOptions(contentType, metadata, newCondition);
    }

    public PutOptions withMetadata(Map<String, String> newMetadata) {
        return new PutOptions(contentType, newMetadata, condition);
    }
}
