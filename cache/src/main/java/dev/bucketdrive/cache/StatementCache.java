package dev.bucketdrive.cache;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * A connection whose {@code prepareStatement(sql)} hands out the statement prepared for that text
 * before: SQLite compiles a statement in about as long as it runs a small one, and the index runs
 * the same few dozen texts all the time. Closing such a statement clears its parameters and returns
 * it; a text whose statement is still in use (not closed yet) gets a fresh one that closes for real.
 * A statement that threw is not handed out again: on most errors (SQLITE_FULL, a ROLLBACK with no
 * transaction) sqlite-jdbc finalizes it while its {@code isClosed()} still says false.
 * Not thread-safe: {@link Database} uses it under its lock only.
 */
final class StatementCache implements InvocationHandler {

    /** More texts than the code has: a text built from data would otherwise keep statements without end. */
    private static final int MAX_TEXTS = 256;

    private final Connection connection;
    private final Map<String, Entry> statements = new HashMap<>();

    private static final class Entry implements InvocationHandler {
        final PreparedStatement statement;
        final PreparedStatement handedOut;
        boolean inUse;
        /** How many times it was handed out (for tests of how many statements a change runs). */
        long handedOutTimes;
        /** It threw: it may be finalized underneath (guarded like the cache: by the caller's lock). */
        boolean failed;

        Entry(PreparedStatement statement) {
            this.statement = statement;
            this.handedOut = (PreparedStatement) Proxy.newProxyInstance(PreparedStatement.class.getClassLoader(),
                    new Class<?>[] {PreparedStatement.class}, this);
        }

        @Override
        public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
            if (method.getName().equals("close") && method.getParameterCount() == 0) {
                if (inUse) {
                    inUse = false;
                    statement.clearParameters();
                }
                return null;
            }
            if (method.getName().equals("isClosed") && method.getParameterCount() == 0) {
                return !inUse || statement.isClosed();
            }
            try {
                return call(statement, method, args);
            } catch (SQLException e) {
                failed = true;
                throw e;
            }
        }
    }

    private StatementCache(Connection connection) {
        this.connection = connection;
    }

    static Connection over(Connection connection) {
        return (Connection) Proxy.newProxyInstance(Connection.class.getClassLoader(), new Class<?>[] {Connection.class},
                new StatementCache(connection));
    }

    /** Closes the statements kept (the connection itself stays open). */
    static void close(Connection cached) throws SQLException {
        StatementCache cache = (StatementCache) Proxy.getInvocationHandler(cached);
        for (Entry e : cache.statements.values()) {
            e.statement.close();
        }
        cache.statements.clear();
    }

    /** How many times the statement kept for {@code sql} was handed out; 0 when none is kept. */
    static long timesRun(Connection cached, String sql) {
        Entry e = ((StatementCache) Proxy.getInvocationHandler(cached)).statements.get(sql);
        return e == null ? 0 : e.handedOutTimes;
    }

    /** The texts prepared so far and kept. */
    static Set<String> texts(Connection cached) {
        return Set.copyOf(((StatementCache) Proxy.getInvocationHandler(cached)).statements.keySet());
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
        if (!method.getName().equals("prepareStatement") || method.getParameterCount() != 1) {
            return call(connection, method, args);
        }
        String sql = (String) args[0];
        Entry e = statements.get(sql);
        if ((e != null && e.inUse) || (e == null && statements.size() >= MAX_TEXTS)) {
            return connection.prepareStatement(sql); // the caller's own, closed for real
        }
        if (e != null && (e.failed || e.statement.isClosed())) {
            e.statement.close();
            e = null;
        }
        if (e == null) {
            e = new Entry(connection.prepareStatement(sql));
            statements.put(sql, e);
        }
        e.inUse = true;
        e.handedOutTimes++;
        return e.handedOut;
    }

    private static Object call(Object target, Method method, Object[] args) throws Throwable {
        try {
            return method.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }
}
