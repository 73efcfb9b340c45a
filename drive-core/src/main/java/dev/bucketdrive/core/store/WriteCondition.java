package dev.bucketdrive.core.store;

import java.util.Objects;

/**
 * A precondition on a write (PUT or CompleteMultipartUpload). A write whose condition fails throws
 * {@link StoreException.Kind#PRECONDITION_FAILED} and changes nothing.
 */
public sealed interface WriteCondition {

    /** Write whatever is there. */
    WriteCondition NONE = new None();
    /** Write only if no object has the key ({@code If-None-Match: *}). */
    WriteCondition IF_ABSENT = new IfAbsent();

    /** Write only if the object still has this ETag ({@code If-Match}). */
    static WriteCondition ifMatch(String etag) {
        return new IfMatch(etag);
    }

    record None() implements WriteCondition {
    }

    record IfAbsent() implements WriteCondition {
    }

    record IfMatch(String etag) implements WriteCondition {
        public IfMatch {
            Objects.requireNonNull(etag, "etag");
        }
    }
}
