/* test-vala.vala: the Vala bindings compile and run a whole session. */
int main () {
    var session = new Llmsbx.SandboxSession ("python");
    try {
        session.open (null);
        var result = session.run ("import sys\nprint(6*7)\nsys.exit(4)", null, 0, null);
        var id = session.container_id;
        session.close (null);
        if (result.stdout != "42\n" || result.exit_code != 4) {
            stderr.printf ("unexpected result: %s (exit %d)\n", result.stdout, result.exit_code);
            return 1;
        }
        if (id == null || session.is_open) {
            stderr.printf ("session state is wrong after close\n");
            return 1;
        }
    } catch (Error e) {
        stderr.printf ("%s\n", e.message);
        return 1;
    }

    /* Errors arrive as Llmsbx.Error. */
    var closed = new Llmsbx.SandboxSession ("python");
    try {
        closed.run ("print(1)", null, 0, null);
        stderr.printf ("running on a closed session did not fail\n");
        return 1;
    } catch (Llmsbx.Error.NOT_OPEN e) {
    } catch (Error e) {
        stderr.printf ("wrong error: %s\n", e.message);
        return 1;
    }
    return 0;
}
