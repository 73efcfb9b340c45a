package dev.bucketdrive.s3;

import java.time.Instant;
import java.util.Map;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;

/**
 * What the answer to a HEAD or a GET says about its object, whichever path sent the request. The
 * direct path ({@link DirectObjectRequests}) reads it from the headers without the SDK's response
 * types: the first use of {@link GetObjectResponse} builds about ninety of the SDK's field accessors
 * (30 ms of a new JVM, on a new mount's first GET while the read-aheads behind it wait; 11 ms for
 * {@link HeadObjectResponse}), and every answer fills and copies the fifty fields of its builder.
 *
 * @param contentLength the length of the answer's body, {@code null} when the answer gives none
 * @param contentRange the {@code Content-Range} of an answer to a ranged GET, else {@code null}
 * @param metadata the user metadata, by names without the {@code x-amz-meta-} prefix
 */
record ObjectHead(Long contentLength, String contentRange, String eTag, Instant lastModified,
                  Map<String, String> metadata, String contentType) {

    static ObjectHead of(HeadObjectResponse r) {
        return new ObjectHead(r.contentLength(), null, r.eTag(), r.lastModified(), r.metadata(), r.contentType());
    }

    static ObjectHead of(GetObjectResponse r) {
        return new ObjectHead(r.contentLength(), r.contentRange(), r.eTag(), r.lastModified(), r.metadata(),
                r.contentType());
    }

    /** The whole object's size: the total that a {@code Content-Range} names, else the body's length. */
    long objectSize() {
        if (contentRange != null) {
            int slash = contentRange.lastIndexOf('/');
            if (slash >= 0 && !contentRange.endsWith("*")) {
                return Long.parseLong(contentRange.substring(slash + 1).trim());
            }
        }
        return contentLength;
    }
}
