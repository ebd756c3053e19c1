/*
 * XCLIENT, as Postfix documents it (XCLIENT_README), a plugin shipped with
 * jsmail (docs/plugins.md). A proxy or a test tool that the rules trust
 * tells jsmail who the real client is:
 *
 *   XCLIENT ADDR=192.0.2.7 NAME=client.example HELO=client.example
 *   220 mx.example ESMTP                      (then EHLO again)
 *
 * and for the rest of the session jsmail sees that client: check programs
 * and qmail-spp plugins get its TCPREMOTEIP, TCPREMOTEHOST, TCPREMOTEPORT
 * and HELO, the Received line and the log lines name it.
 *
 * Who may: the clients for which tcprules sets the variable XCLIENT (any
 * value, empty included), the way RELAYCLIENT says who may relay:
 *
 *   127.0.0.1:allow,XCLIENT=""
 *
 * The argument in control/plugins, if any, names another variable. Only
 * those clients see XCLIENT in the EHLO reply; the others get 550 5.7.0.
 *
 * Attributes (names in any case, values xtext: "+HH" for a byte in hex):
 *   ADDR   the client's IP address (IPv6 with or without "IPV6:")
 *   NAME   its host name
 *   PORT   its port
 *   HELO   its HELO name, kept over the EHLO the proxy sends next
 *   LOGIN  the user it authenticated as
 *   PROTO  SMTP or ESMTP, for the Received line
 * [UNAVAILABLE] and [TEMPUNAVAIL] make ADDR, NAME and PORT unknown and LOGIN
 * none, as in Postfix; for HELO and PROTO they leave the fact as it was.
 * DESTADDR and DESTPORT are not supported (501).
 *
 * Replies: 220 greeting on success (the session starts over: EHLO again);
 * 550 5.7.0 to a client the rules do not allow; 503 5.5.1 inside a mail
 * transaction; 501 5.5.4 for bad syntax, an unknown attribute or a bad
 * value (and then nothing changes).
 *
 * Only the plugin ABI (version 2: env, set_fact, restart, ehlo_offer) is
 * used, and no libc function with thread-local state (ctype, errno), so it
 * works in the statically linked jsmail-smtpd as well as in server mode.
 *
 * Build:  cc -shared -fPIC -O2 -I include -o xclient.so plugins/xclient.c
 * Load:   echo "/var/qmail/plugins/xclient.so" >> control/plugins
 */
#include <stdio.h>
#include <string.h>
#include "jsmail/plugin.h"

#define EHLO_LINE "XCLIENT ADDR NAME PORT HELO LOGIN PROTO"
#define MAX_ARGUMENT 1024

static const jsmail_api *api;
static char variable[64] = "XCLIENT";

unsigned jsmail_plugin_abi_version(void)
{
    return JSMAIL_PLUGIN_ABI_VERSION;
}

static int allowed(const jsmail_session *s)
{
    return api->env(s, variable) != NULL;
}

static int offer(void *data, const jsmail_session *s, jsmail_reply *reply)
{
    (void)data; (void)reply;
    if (allowed(s)) api->ehlo_offer(s, EHLO_LINE);
    return JSMAIL_CONTINUE;
}

static int refuse(jsmail_reply *reply, int code, const char *enhanced, const char *text, const char *detail)
{
    reply->code = code;
    snprintf(reply->enhanced, sizeof reply->enhanced, "%s", enhanced);
    snprintf(reply->text, sizeof reply->text, "%s%s", text, detail ? detail : "");
    return JSMAIL_CONTINUE;
}

static char upper(char c) { return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c; }

static int same_word(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (upper(*a) != upper(*b)) return 0;
    return *a == *b;
}

static int hex(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1; /* RFC 3461's xtext: upper-case hex digits only */
}

/* RFC 3461 xtext in place: "+HH" is the byte HH; '+' otherwise and '=' are not allowed. 0 when malformed. */
static int xtext_decode(char *v)
{
    char *out = v;
    for (; *v; v++)
    {
        unsigned char c = (unsigned char)*v;
        if (c == '+')
        {
            int hi = hex(v[1]), lo = hi < 0 ? -1 : hex(v[2]);
            if (lo < 0) return 0;
            *out++ = (char)(hi * 16 + lo);
            v += 2;
        }
        else if (c < 33 || c > 126 || c == '=') return 0;
        else *out++ = (char)c;
    }
    *out = '\0';
    return 1;
}

static int unavailable(const char *v)
{
    return strcmp(v, "[UNAVAILABLE]") == 0 || strcmp(v, "[TEMPUNAVAIL]") == 0;
}

/* One attribute: 0 when it was taken, or the reply's detail text when it was not. */
static const char *attribute(const jsmail_session *s, char *name, char *value)
{
    int fact;
    if (same_word(name, "ADDR")) fact = JSMAIL_FACT_REMOTE_IP;
    else if (same_word(name, "NAME")) fact = JSMAIL_FACT_REMOTE_HOST;
    else if (same_word(name, "PORT")) fact = JSMAIL_FACT_REMOTE_PORT;
    else if (same_word(name, "HELO")) fact = JSMAIL_FACT_HELO;
    else if (same_word(name, "LOGIN")) fact = JSMAIL_FACT_AUTH_USER;
    else if (same_word(name, "PROTO")) fact = JSMAIL_FACT_PROTOCOL;
    else return "bad XCLIENT attribute name: ";
    if (!xtext_decode(value)) return "bad xtext in the value of ";
    if (unavailable(value))
    {
        /* unknown, as Postfix makes them; a HELO or protocol that is not given is the next EHLO's */
        if (fact != JSMAIL_FACT_HELO && fact != JSMAIL_FACT_PROTOCOL)
            return api->set_fact(s, fact, NULL) == 0 ? NULL : "bad value of ";
        return NULL;
    }
    if (fact == JSMAIL_FACT_REMOTE_IP && strncmp(value, "IPV6:", 5) == 0) value += 5;
    else if (fact == JSMAIL_FACT_REMOTE_IP && strncmp(value, "IPv6:", 5) == 0) value += 5;
    return api->set_fact(s, fact, value) == 0 ? NULL : "bad value of ";
}

static int xclient(void *data, const jsmail_session *s, const char *argument, jsmail_reply *reply)
{
    (void)data;
    if (!allowed(s)) return refuse(reply, 550, "5.7.0", "insufficient authorization", NULL);
    if (api->fact(s, JSMAIL_FACT_SENDER, 0, NULL) != NULL)
        return refuse(reply, 503, "5.5.1", "mail transaction in progress", NULL);

    char copy[MAX_ARGUMENT];
    size_t length = strlen(argument);
    if (length == 0) return refuse(reply, 501, "5.5.4", "syntax: XCLIENT attribute=value ...", NULL);
    if (length >= sizeof copy) return refuse(reply, 501, "5.5.4", "XCLIENT line too long", NULL);
    memcpy(copy, argument, length + 1);

    char *p = copy;
    while (*p)
    {
        while (*p == ' ') p++;
        if (*p == '\0') break;
        char *name = p;
        while (*p && *p != ' ') p++;
        if (*p) *p++ = '\0';
        char *equals = strchr(name, '=');
        if (equals == NULL || equals == name || equals[1] == '\0')
            return refuse(reply, 501, "5.5.4", "attribute=value expected: ", name);
        *equals = '\0';
        const char *why = attribute(s, name, equals + 1);
        if (why != NULL) return refuse(reply, 501, "5.5.4", why, name);
    }
    api->restart(s); /* the reply is jsmail's greeting; the client says EHLO again */
    return JSMAIL_CONTINUE;
}

/* A variable name: letters, digits and '_', not starting with a digit. */
static int valid_variable(const char *v)
{
    size_t n = 0;
    for (; v[n]; n++)
        if (!((v[n] >= 'A' && v[n] <= 'Z') || (v[n] >= 'a' && v[n] <= 'z') || v[n] == '_' || (n > 0 && v[n] >= '0' && v[n] <= '9')))
            return 0;
    return n > 0 && n < sizeof variable;
}

int jsmail_plugin_init(const char *args, const jsmail_registrar *r)
{
    if (r->abi_version < 2) return 1; /* env, set_fact, restart and ehlo_offer are version 2's */
    if (*args != '\0')
    {
        if (!valid_variable(args)) return 2;
        snprintf(variable, sizeof variable, "%s", args);
    }
    api = r->api;
    if (r->hook(r->host, JSMAIL_EVENT_HELO, offer) != 0) return 3;
    if (r->verb(r->host, "XCLIENT", xclient) != 0) return 4;
    return 0;
}
