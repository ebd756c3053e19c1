/*
 * An example jsmail plugin (docs/plugins.md). It adds:
 *   - the EHLO keyword "X-EXAMPLE" with the arguments given in control/plugins,
 *   - a MAIL parameter X-TAG=<word> that must be letters and digits,
 *   - a verb XHELLO that answers "250 hello <client address>",
 *   - a RCPT hook refusing every recipient whose local part starts with "blocked",
 *     with its own text, and logging the decision.
 *
 * Build:  cc -shared -fPIC -I include -o example.so examples/plugins/c/example.c
 * Load:   echo "/path/to/example.so SOME ARGS" >> control/plugins
 *
 * The EXAMPLE_BROKEN_* macros build the faulty plugins the tests need.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "jsmail/plugin.h"

static const jsmail_api *api;
static char ehlo_line[256];

#ifndef EXAMPLE_BROKEN_NO_VERSION
unsigned jsmail_plugin_abi_version(void)
{
#ifdef EXAMPLE_BROKEN_ABI
    return JSMAIL_PLUGIN_ABI_VERSION + 41;
#else
    return JSMAIL_PLUGIN_ABI_VERSION;
#endif
}
#endif

static int check_rcpt(void *data, const jsmail_session *s, jsmail_reply *reply)
{
    (void)data;
#ifdef EXAMPLE_BROKEN_HANG
    (void)s; (void)reply;
    for (;;) pause();
#endif
#ifdef EXAMPLE_BROKEN_CODE
    (void)s;
    reply->code = 250; /* not a refusal code: jsmail must not send it */
    snprintf(reply->text, sizeof reply->text, "this is no refusal");
    return JSMAIL_REJECT;
#endif
    size_t n = api->recipient_count(s);
    const char *rcpt = api->fact(s, JSMAIL_FACT_RECIPIENT, n, NULL);
    if (rcpt == NULL || strncmp(rcpt, "blocked", 7) != 0) return JSMAIL_CONTINUE;
    const char *ip = api->fact(s, JSMAIL_FACT_REMOTE_IP, 0, NULL);
    char line[300];
    snprintf(line, sizeof line, "example: refused <%s> from %s", rcpt, ip ? ip : "?");
    api->log(s, line);
    reply->code = 553;
    snprintf(reply->enhanced, sizeof reply->enhanced, "5.7.1");
    snprintf(reply->text, sizeof reply->text, "example plugin says no to <%s>", rcpt);
    return JSMAIL_REJECT;
}

static int check_tag(void *data, const jsmail_session *s, const char *keyword, const char *value, jsmail_reply *reply)
{
    (void)data; (void)s; (void)keyword;
    if (value != NULL && *value != '\0') {
        const char *p = value;
        /* not isalnum(): ctype reads libc's thread-local locale, which a statically
           linked jsmail-smtpd cannot give a dlopen'ed library (docs/plugins.md) */
        while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')) p++;
        if (*p == '\0') return JSMAIL_CONTINUE;
    }
    reply->code = 501;
    snprintf(reply->enhanced, sizeof reply->enhanced, "5.5.4");
    snprintf(reply->text, sizeof reply->text, "X-TAG wants letters and digits");
    return JSMAIL_REJECT;
}

static int hello(void *data, const jsmail_session *s, const char *argument, jsmail_reply *reply)
{
    (void)data; (void)argument;
    const char *ip = api->fact(s, JSMAIL_FACT_REMOTE_IP, 0, NULL);
    reply->code = 250;
    snprintf(reply->text, sizeof reply->text, "hello %s", ip ? ip : "stranger");
    return JSMAIL_CONTINUE;
}

int jsmail_plugin_init(const char *args, const jsmail_registrar *r)
{
    if (r->abi_version != JSMAIL_PLUGIN_ABI_VERSION) return 1;
    api = r->api;
    snprintf(ehlo_line, sizeof ehlo_line, "X-EXAMPLE%s%s", *args ? " " : "", args);
    if (r->ehlo_keyword(r->host, ehlo_line) != 0) return 2;
    if (r->mail_parameter(r->host, "X-TAG", check_tag) != 0) return 3;
    if (r->verb(r->host, "XHELLO", hello) != 0) return 4;
    if (r->hook(r->host, JSMAIL_EVENT_RCPT, check_rcpt) != 0) return 5;
#ifdef EXAMPLE_BROKEN_INIT
    return 9;
#endif
    return 0;
}
