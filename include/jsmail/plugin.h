/*
 * jsmail native plugin ABI (docs/plugins.md).
 *
 * A plugin is a shared library named in control/plugins, one path a line,
 * optional arguments after the first space. jsmail-smtpd and jsmail-smtpd
 * server mode load every listed library at start and call, in this order:
 *
 *   unsigned jsmail_plugin_abi_version(void);   the version the plugin was built for
 *   int jsmail_plugin_init(const char *args, const jsmail_registrar *r);   0 = ready
 *
 * A version this jsmail does not speak, a missing symbol or a non-zero init
 * stops the program before it serves anyone, with the library's path and the
 * reason on stderr.
 *
 * Versions. jsmail speaks 1 and 2, and a plugin built for 1 loads unchanged:
 * version 2 only adds (facts 8 and 9, and four functions at the end of
 * jsmail_api); nothing of version 1 moved or changed meaning. r->abi_version
 * and r->api->abi_version are the version the plugin returned, so a version 1
 * plugin that checks them against its own JSMAIL_PLUGIN_ABI_VERSION still
 * passes, and its api table ends where its header says. A plugin that needs
 * version 2 returns 2 (JSMAIL_PLUGIN_ABI_VERSION of this header); an older
 * jsmail refuses it at start instead of letting it call what is not there.
 *
 * In init the plugin registers what it adds (hooks, EHLO keywords, MAIL and
 * RCPT parameters, verbs) through the registrar; the registrar and the
 * strings given to init are valid during init only, the api table for the
 * life of the process. Every string jsmail hands over is NUL-terminated
 * bytes as the client sent them; the pointers are valid until the callback
 * returns. Callbacks may run on any thread, one at a time per session, but
 * sessions run at once in server mode: keep shared state thread-safe.
 *
 * A callback that does not return within the deadline (control/plugintimeout,
 * seconds, default 10) is abandoned: the client gets 451 4.3.0 and the log a
 * line naming the plugin. A callback that returns a decision or a reply code
 * outside the ranges below is treated the same way.
 */
#ifndef JSMAIL_PLUGIN_H
#define JSMAIL_PLUGIN_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Raised whenever something is added or changed below. Additions go at the
 * end of a struct or an enum, so that an older plugin keeps working. A
 * plugin that uses nothing of version 2 and must also run on an older
 * jsmail is built with -DJSMAIL_PLUGIN_ABI_VERSION=1u.
 */
#ifndef JSMAIL_PLUGIN_ABI_VERSION
#define JSMAIL_PLUGIN_ABI_VERSION 2u
#endif

/* The session a callback is about; only the api functions look inside. */
typedef struct jsmail_session jsmail_session;

/* The points of the dialogue a hook can be registered for. */
enum jsmail_event {
    JSMAIL_EVENT_CONNECT = 0,  /* before the greeting */
    JSMAIL_EVENT_HELO = 1,     /* HELO or EHLO, after jsmail's own checks */
    JSMAIL_EVENT_MAIL = 2,     /* MAIL, after its parameters were validated */
    JSMAIL_EVENT_RCPT = 3,     /* RCPT; JSMAIL_FACT_RECIPIENT is the address being decided */
    JSMAIL_EVENT_DATA = 4,     /* the DATA command, before 354 */
    JSMAIL_EVENT_END_OF_DATA = 5 /* the final dot, before the message is queued */
};

/* What a hook decided. */
enum jsmail_decision {
    JSMAIL_CONTINUE = 0,   /* no opinion: the next plugin, then jsmail, decide */
    JSMAIL_ACCEPT = 1,     /* accept as far as plugins go: later plugins of this event are skipped */
    JSMAIL_REJECT = 2,     /* refuse for good: reply code 500..599 (0 = 550 5.7.1) */
    JSMAIL_DEFER = 3,      /* refuse for now: reply code 400..499 (0 = 451 4.7.1) */
    JSMAIL_DISCONNECT = 4  /* refuse and close: reply code 421 or 5xx (0 = 421 4.7.0) */
};

/*
 * The reply a callback gives with a refusal or a verb. jsmail zeroes it
 * before each call. code: the three digits; enhanced: "x.y.z" or empty for
 * the default of the decision; text: one line, CR and LF are replaced.
 */
typedef struct jsmail_reply {
    int code;
    char enhanced[16];
    char text[480];
} jsmail_reply;

/* Facts about the session, read with api->fact. */
enum jsmail_fact {
    JSMAIL_FACT_REMOTE_IP = 0,   /* the client's address as text */
    JSMAIL_FACT_HELO = 1,        /* HELO/EHLO argument; NULL before one */
    JSMAIL_FACT_SENDER = 2,      /* MAIL address ("" for <>); NULL outside a transaction */
    JSMAIL_FACT_RECIPIENT = 3,   /* recipient number index (0 = first accepted); at RCPT, index = count is the one being decided */
    JSMAIL_FACT_TLS = 4,         /* protocol and cipher when TLS is on; NULL otherwise */
    JSMAIL_FACT_AUTH_USER = 5,   /* the authenticated user; NULL when none */
    JSMAIL_FACT_REMOTE_HOST = 6, /* TCPREMOTEHOST, or "unknown" */
    JSMAIL_FACT_PARAMETER = 7,   /* during a parameter check: the keyword's value, NULL when it has none */
    /* version 2 */
    JSMAIL_FACT_REMOTE_PORT = 8, /* TCPREMOTEPORT; NULL when unknown */
    JSMAIL_FACT_PROTOCOL = 9     /* "SMTP" or "ESMTP": what the Received line names (before its S and A) */
};

typedef struct jsmail_api {
    unsigned abi_version;
    /* A fact (jsmail_fact) as NUL-terminated bytes, its length in *length when length is not NULL; NULL when unknown. */
    const char *(*fact)(const jsmail_session *s, int fact, size_t index, size_t *length);
    /* The number of recipients accepted so far in this transaction. */
    size_t (*recipient_count)(const jsmail_session *s);
    /* One line in the program's log, naming the session's client. */
    void (*log)(const jsmail_session *s, const char *line);

    /* Version 2: present when the plugin returned 2 (see "Versions" above). */

    /*
     * A variable of the session's environment, as tcpserver and tcprules set
     * it for this connection (server mode: as its rules CDB sets it); NULL
     * when unset. This is how a plugin reads what the rules decide for a
     * client (XCLIENT="" in tcp.smtp, say).
     */
    const char *(*env)(const jsmail_session *s, const char *name);
    /*
     * In a verb callback only: sets a fact of the session for the rest of it,
     * as if the client had connected with it. Settable: REMOTE_IP (NULL:
     * unknown; also drops RELAYCLIENT and TCPREMOTEINFO, which tcprules and
     * identd gave the previous address), REMOTE_HOST (NULL: unknown),
     * REMOTE_PORT (NULL: unknown), HELO (kept
     * over the next HELO or EHLO, whose own argument then does not count), AUTH_USER (as after AUTH;
     * NULL: not authenticated), PROTOCOL ("SMTP" or "ESMTP"). The changes take
     * effect when the callback returns JSMAIL_CONTINUE with a 2xx reply or
     * after restart (a refusal changes nothing), and change what every
     * later step sees: check programs' and qmail-spp plugins' environment
     * (TCPREMOTEIP, TCPREMOTEHOST, TCPREMOTEPORT, SMTPAUTHUSER), the Received
     * line, the log lines, milters, policy services and other plugins.
     * Returns 0, or -1 outside a verb, for a fact that cannot be set, or a
     * value that is not one (an empty or over-long one, control characters,
     * spaces, or an address that is not an IP address).
     */
    int (*set_fact)(const jsmail_session *s, int fact, const char *value);
    /*
     * In a verb callback only: once the verb succeeds (JSMAIL_CONTINUE), the
     * session starts over as after the connection's greeting (transaction,
     * HELO and AUTH forgotten, unless set_fact set them) and the reply is
     * jsmail's 220 greeting instead of the verb's; the client must send HELO
     * or EHLO again. Returns 0, or -1 outside a verb.
     */
    int (*restart)(const jsmail_session *s);
    /*
     * In a JSMAIL_EVENT_HELO hook only: one more EHLO line for this session
     * alone (same form as the registrar's ehlo_keyword), so that what is
     * offered can depend on the client. Ignored after HELO. Returns 0, or -1.
     */
    int (*ehlo_offer)(const jsmail_session *s, const char *line);
} jsmail_api;

/* A hook: returns a jsmail_decision; fills reply for a refusal when it has its own text. */
typedef int (*jsmail_hook_fn)(void *data, const jsmail_session *s, jsmail_reply *reply);

/*
 * A MAIL or RCPT parameter check: keyword and value (NULL when the parameter
 * has none). Returns JSMAIL_CONTINUE to accept the value, which then travels
 * in the envelope extension, or a refusal (default 501 5.5.4).
 */
typedef int (*jsmail_parameter_fn)(void *data, const jsmail_session *s, const char *keyword, const char *value,
    jsmail_reply *reply);

/*
 * A verb: argument is everything after the verb and its spaces ("" when
 * none). Must fill reply (code 200..599); returns JSMAIL_CONTINUE, or
 * JSMAIL_DISCONNECT to close after the reply.
 */
typedef int (*jsmail_verb_fn)(void *data, const jsmail_session *s, const char *argument, jsmail_reply *reply);

typedef struct jsmail_registrar {
    unsigned abi_version;
    const jsmail_api *api;
    void *host; /* pass back as the first argument of the calls below */
    /* data is passed to every callback this plugin registers. */
    void (*set_data)(void *host, void *data);
    /* Each returns 0, or -1 when the arguments are unusable (init should then fail). */
    int (*hook)(void *host, int event, jsmail_hook_fn fn);
    /* An EHLO line: the keyword, then its arguments after a space ("MT-PRIORITY MIXER"). */
    int (*ehlo_keyword)(void *host, const char *line);
    int (*mail_parameter)(void *host, const char *keyword, jsmail_parameter_fn fn);
    int (*rcpt_parameter)(void *host, const char *keyword, jsmail_parameter_fn fn);
    int (*verb)(void *host, const char *verb, jsmail_verb_fn fn);
} jsmail_registrar;

unsigned jsmail_plugin_abi_version(void);
int jsmail_plugin_init(const char *args, const jsmail_registrar *r);

#ifdef __cplusplus
}
#endif

#endif
