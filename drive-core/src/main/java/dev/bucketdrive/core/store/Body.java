package dev.bucketdrive.core.store;

import java.nio.file.Path;
import java.util.Objects;

/**
 * What a PUT or an UploadPart sends. It may be read more than once (retries, payload signing), but
 * only until the call that sends it returns: the caller then reuses its bytes.
 */
public sealed interface Body {

    long length();

    static Body of(byte[] bytes) {
        return new Bytes(bytes);
    }

    static Body of(Path file, long offset, long length) {
        return new FileRegion(file, offset, length);
    }

    record Bytes(byte[] bytes) implements Body {
        public Bytes {
            Objects.requireNonNull(bytes, "bytes");
        }

        @Override
        public long length() {
            return bytes.length;
        }
    }

    /** {@code length} bytes of {@code file} from {@code offset}; the file must not change meanwhile. */
    record FileRegion(Path file, long offset, long length) implements Body {
        public FileRegion {
            Objects.requireNonNull(file, "file");
            if (offset < 0 || length < 0) {
                throw new IllegalArgumentException("negative offset or length");
            }
        }
    }
}
