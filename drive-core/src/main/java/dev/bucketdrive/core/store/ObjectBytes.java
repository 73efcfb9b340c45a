package dev.bucketdrive.core.store;

import java.util.Objects;

/**
 * The bytes a ranged GET returned, with what the GET tells about the whole object (what HEAD tells:
 * the version, the whole size, last-modified time and user metadata).
 */
public record ObjectBytes(byte[] data, ObjectInfo object) {
    public ObjectBytes {
        Objects.requireNonNull(data, "data");
        Objects.requireNonNull(object, "object");
    }

    public String etag() {
        return object.etag();
    }

    /** The whole object's size (from Content-Range or Content-Length). */
    public long objectSize() {
        return object.size();
    }
}
