package dev.bucketdrive.core.attrs;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * POSIX attributes in object user metadata, the way s3fs keeps them ({@code x-amz-meta-mode},
 * {@code -uid}, {@code -gid}, {@code -mtime}), so a bucket written by BucketDrive reads right in s3fs
 * and the other way round. rclone's {@code mtime} (fractional seconds) is read too. Objects written by
 * other tools, with no such metadata, get the mount's defaults and the object's Last-Modified time.
 */
public final class PosixMetadata {

    private static final Logger LOG = LoggerFactory.getLogger(PosixMetadata.class);

    public static final String MODE = "mode";
    public static final String UID = "uid";
    public static final String GID = "gid";
    public static final String MTIME = "mtime";

    /** What a mount shows for objects that carry no POSIX metadata. */
    public record Defaults(int fileMode, int directoryMode, int uid, int gid) {
        /** 0644 files and 0755 directories (umask 022), owned by the given user. */
        public static Defaults forUser(int uid, int gid) {
            return new Defaults(0644, 0755, uid, gid);
        }

        public static Defaults withUmask(int umask, int uid, int gid) {
            return new Defaults(0666 & ~umask, 0777 & ~umask, uid, gid);
        }
    }

    /** What the object is, as far as its key can tell: a key ending in {@code /} is a directory. */
    public enum Kind { FILE, DIRECTORY }

    private PosixMetadata() {
    }

    /**
     * Reads the attributes of an object. The type comes from the mode when it has type bits (s3fs
     * marks symlinks and old-style directory objects so), otherwise from {@code kind}.
     */
    public static PosixAttributes read(Map<String, String> metadata, Kind kind, Instant lastModified,
                                       Defaults defaults) {
        int typeFromKey = kind == Kind.DIRECTORY ? PosixAttributes.S_IFDIR : PosixAttributes.S_IFREG;
        int defaultPermissions = kind == Kind.DIRECTORY ? defaults.directoryMode() : defaults.fileMode();
        int mode = typeFromKey | defaultPermissions;
        Long stored = number(metadata, MODE);
        if (stored != null && stored >= 0 && stored <= 0177777) {
            int m = stored.intValue();
            int type = m & PosixAttributes.S_IFMT;
            boolean knownType = type == PosixAttributes.S_IFREG || type == PosixAttributes.S_IFDIR
                    || type == PosixAttributes.S_IFLNK;
            mode = (kind == Kind.DIRECTORY ? PosixAttributes.S_IFDIR : knownType ? type : typeFromKey) | (m & 07777);
        }
        Long uid = number(metadata, UID);
        Long gid = number(metadata, GID);
        return new PosixAttributes(mode,
                uid != null && uid >= 0 && uid <= 0xFFFFFFFFL ? uid.intValue() : defaults.uid(),
                gid != null && gid >= 0 && gid <= 0xFFFFFFFFL ? gid.intValue() : defaults.gid(),
                mtimeMillis(metadata).orElse(lastModified.toEpochMilli()));
    }

    /**
     * The metadata to store for {@code attributes}. The mtime is whole seconds, which is what s3fs
     * parses; the sub-second part is kept in the local index only.
     */
    public static Map<String, String> write(PosixAttributes attributes) {
        return Map.of(
                MODE, Integer.toString(attributes.mode()),
                UID, Integer.toUnsignedString(attributes.uid()),
                GID, Integer.toUnsignedString(attributes.gid()),
                MTIME, Long.toString(Math.floorDiv(attributes.mtimeMillis(), 1000)));
    }

    private static java.util.OptionalLong mtimeMillis(Map<String, String> metadata) {
        String raw = metadata.get(MTIME);
        if (raw == null) {
            return java.util.OptionalLong.empty();
        }
        try {
            // s3fs: whole seconds; rclone: seconds with a fraction.
            return java.util.OptionalLong.of(new BigDecimal(raw.trim()).movePointRight(3).longValue());
        } catch (NumberFormatException e) {
            LOG.debug("ignoring unreadable mtime metadata {}", raw);
            return java.util.OptionalLong.empty();
        }
    }

    private static Long number(Map<String, String> metadata, String name) {
        String raw = metadata.get(name);
        if (raw == null) {
            return null;
        }
        try {
            return Long.parseLong(raw.trim());
        } catch (NumberFormatException e) {
            LOG.debug("ignoring unreadable {} metadata {}", name, raw);
            return null;
        }
    }
}
