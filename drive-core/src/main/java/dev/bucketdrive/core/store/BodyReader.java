package dev.bucketdrive.core.store;

import java.io.IOException;
import java.io.InputStream;

/**
 * Takes the body of a GET as it arrives ({@link ObjectStore#read}), so that a range of many megabytes
 * need not be gathered in one array first.
 */
@FunctionalInterface
public interface BodyReader<T> {

    /**
     * @param object what the GET tells about the whole object (as {@link ObjectBytes#object()})
     * @param length the bytes {@code body} holds, or -1 when the server did not say
     * @param body   the bytes; an I/O error reading it is the store's failure (retried like any)
     */
    T read(ObjectInfo object, long length, InputStream body) throws IOException;

    /** Gathers the body in one array. */
    static BodyReader<ObjectBytes> whole() {
        return (object, length, body) -> {
            if (length < 0 || length > Integer.MAX_VALUE - 8) {
                return new ObjectBytes(body.readAllBytes(), object);
            }
            byte[] data = new byte[(int) length];
            int n = body.readNBytes(data, 0, data.length);
            if (n != data.length) {
                throw new IOException("the body ended after " + n + " of " + length + " bytes");
            }
            return new ObjectBytes(data, object);
        };
    }
}
