package dev.bucketdrive.core.store;

import java.util.Comparator;

/** S3 lists keys in the order of their UTF-8 bytes, which differs from {@link String#compareTo}. */
public final class KeyOrder {

    /** Compares keys by their UTF-8 encoding, byte by byte, unsigned. */
    public static final Comparator<String> UTF8 = KeyOrder::compare;

    private KeyOrder() {
    }

    private static int compare(String a, String b) {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
            int ca = a.codePointAt(i);
            int cb = b.codePointAt(j);
            if (ca != cb) {
                // UTF-8 preserves code point order, so comparing code points is comparing bytes.
                return Integer.compare(ca, cb);
            }
            i += Character.charCount(ca);
            j += Character.charCount(cb);
        }
        return Boolean.compare(i < a.length(), j < b.length());
    }
}
