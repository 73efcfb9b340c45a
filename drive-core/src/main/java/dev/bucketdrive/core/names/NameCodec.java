package dev.bucketdrive.core.names;

/**
 * Maps one path component between its S3 form (part of a key) and the name a file system shows.
 * The mapping is reversible: {@code toKey(toShown(k)).equals(k)} for every component {@code k}.
 *
 * <p>{@link #POSIX} only maps what no POSIX name can be: the components {@code .} and {@code ..} and
 * the NUL character. {@link #WINDOWS} also maps what Windows forbids — {@code \ : * ? " < > |},
 * control characters, and a trailing dot or space — to look-alike characters (the full-width forms,
 * as rclone does, and the Control Pictures block for control characters), so Explorer shows them as
 * readable characters instead of WinFsp's private-use boxes.
 *
 * <p>A look-alike that is literally in a key (say a full-width {@code ？} or {@code ．}) is shown with
 * the escape U+201B (‛) before it, so the two stay apart; an escape that is literally in a key is
 * itself escaped only where it stands before a look-alike or another escape, so ordinary names never
 * show it. Names an application creates are mapped back by the same rules; the one name that does
 * not survive the trip back is one typed with a literal ‛ right before a look-alike.
 */
public enum NameCodec {
    POSIX(false),
    WINDOWS(true);

    private static final char ESCAPE = '\u201B';
    /** Characters Windows forbids in names, and what they are shown as. */
    private static final String FORBIDDEN = "\\:*?\"<>|";
    private static final String LOOK_ALIKE = "\uFF3C\uFF1A\uFF0A\uFF1F\uFF02\uFF1C\uFF1E\uFF5C";
    private static final char DOT = '\uFF0E';
    private static final char SPACE = '\u2420';
    private static final char NUL = '\u2400';

    private final boolean windows;

    NameCodec(boolean windows) {
        this.windows = windows;
    }

    /** The name to show for a key component. */
    public String toShown(String component) {
        if (component.equals(".") || component.equals("..")) {
            return String.valueOf(DOT).repeat(component.length());
        }
        StringBuilder out = new StringBuilder(component.length() + 4);
        int last = component.length() - 1;
        for (int i = 0; i <= last; i++) {
            char c = component.charAt(i);
            char mapped = mapped(c, i == last);
            if (mapped != 0) {
                out.append(mapped);
            } else if (isLookAlike(c) || (c == ESCAPE && i < last && shownAsLookAlike(component, i + 1))) {
                out.append(ESCAPE).append(c);
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    /** The key component for a shown name (what an application created or renamed to). */
    public String toKey(String shown) {
        if (shown.equals(String.valueOf(DOT)) || shown.equals(String.valueOf(DOT).repeat(2))) {
            return ".".repeat(shown.length());
        }
        StringBuilder out = new StringBuilder(shown.length());
        for (int i = 0; i < shown.length(); i++) {
            char c = shown.charAt(i);
            if (c == ESCAPE && i + 1 < shown.length() && escapesNext(shown.charAt(i + 1))) {
                out.append(shown.charAt(++i));
            } else {
                out.append(original(c, i == shown.length() - 1));
            }
        }
        return out.toString();
    }

    /** The look-alike for {@code c}, or 0 when {@code c} is shown as itself. */
    private char mapped(char c, boolean last) {
        if (c == 0) {
            return NUL;
        }
        if (!windows) {
            return 0;
        }
        int forbidden = FORBIDDEN.indexOf(c);
        if (forbidden >= 0) {
            return LOOK_ALIKE.charAt(forbidden);
        }
        if (c < 0x20) {
            return (char) (0x2400 + c);
        }
        if (last && c == '.') {
            return DOT;
        }
        if (last && c == ' ') {
            return SPACE;
        }
        return 0;
    }

    private char original(char c, boolean last) {
        if (c == NUL) {
            return 0;
        }
        if (!windows) {
            return c;
        }
        int lookAlike = LOOK_ALIKE.indexOf(c);
        if (lookAlike >= 0) {
            return FORBIDDEN.charAt(lookAlike);
        }
        if (c > 0x2400 && c < 0x2420) {
            return (char) (c - 0x2400);
        }
        if (last && c == DOT) {
            return '.';
        }
        if (last && c == SPACE) {
            return ' ';
        }
        return c;
    }

    /** Whether {@code c}, found literally in a key, would be read back as something else. */
    private boolean isLookAlike(char c) {
        return c == NUL || c == DOT || (windows && (LOOK_ALIKE.indexOf(c) >= 0 || (c > 0x2400 && c <= 0x2420)));
    }

    /** Whether the key character at {@code i} is shown starting with a look-alike or an escape. */
    private boolean shownAsLookAlike(String component, int i) {
        char c = component.charAt(i);
        return c == ESCAPE || isLookAlike(c) || mapped(c, i == component.length() - 1) != 0;
    }

    private boolean escapesNext(char next) {
        return next == ESCAPE || isLookAlike(next);
    }
}
