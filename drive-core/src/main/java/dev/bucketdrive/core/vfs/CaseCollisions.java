package dev.bucketdrive.core.vfs;

import dev.bucketdrive.core.names.NameCodec;

import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The names a directory shows, from its key components. On a case-sensitive mount a name is the
 * codec's mapping of its key. On a case-insensitive mount (Windows) S3 may still hold keys that differ
 * only by case, such as {@code Readme.txt} and {@code README.txt}; both must stay reachable. The rule:
 * in key order (UTF-8 binary, the order S3 lists), the first of such a group keeps its name and each
 * further one is shown as {@code stem (case N).ext}, with the smallest N from 2 that matches no other
 * name of the directory. Opening, renaming or deleting that name acts on its own key.
 */
public final class CaseCollisions {

    private CaseCollisions() {
    }

    /**
     * Shown name → key component, for key components given in key order.
     */
    public static Map<String, String> shownNames(List<String> keyComponents, NameCodec codec, boolean caseInsensitive) {
        Map<String, String> shown = new LinkedHashMap<>();
        if (!caseInsensitive) {
            for (String k : keyComponents) {
                shown.put(codec.toShown(k), k);
            }
            return shown;
        }
        Set<String> plain = new HashSet<>();
        for (String k : keyComponents) {
            plain.add(fold(codec.toShown(k)));
        }
        Set<String> taken = new HashSet<>();
        for (String k : keyComponents) {
            String name = codec.toShown(k);
            if (taken.add(fold(name))) {
                shown.put(name, k);
                continue;
            }
            for (int n = 2; ; n++) {
                String candidate = withSuffix(name, " (case " + n + ")");
                String f = fold(candidate);
                if (!plain.contains(f) && taken.add(f)) {
                    shown.put(candidate, k);
                    break;
                }
            }
        }
        return shown;
    }

    /** The key component a shown name stands for in a directory, or null when none does. */
    public static String keyFor(String shownName, Map<String, String> shownNames, boolean caseInsensitive) {
        String exact = shownNames.get(shownName);
        if (exact != null || !caseInsensitive) {
            return exact;
        }
        String f = fold(shownName);
        for (Map.Entry<String, String> e : shownNames.entrySet()) {
            if (fold(e.getKey()).equals(f)) {
                return e.getValue();
            }
        }
        return null;
    }

    /** Inserts {@code suffix} before the extension: {@code a.txt} → {@code a (x).txt}. */
    static String withSuffix(String name, String suffix) {
        int dot = name.lastIndexOf('.');
        return dot > 0 ? name.substring(0, dot) + suffix + name.substring(dot) : name + suffix;
    }

    /** Simple case folding, one code point at a time (as Windows' upcase table does). */
    static String fold(String name) {
        StringBuilder out = new StringBuilder(name.length());
        name.codePoints().map(Character::toUpperCase).forEach(out::appendCodePoint);
        return out.toString();
    }
}
