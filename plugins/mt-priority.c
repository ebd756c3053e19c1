/*
 * MT-PRIORITY (RFC 6710), a plugin shipped with jsmail (docs/plugins.md).
 *
 * It adds, through the plugin ABI alone:
 *   - the EHLO keyword MT-PRIORITY, with the priority assignment policy named
 *     in control/plugins as its argument when one is given (RFC 6710 §3:
 *     "MT-PRIORITY MIXER", "MT-PRIORITY STANAG4406", "MT-PRIORITY NSEP");
 *   - the MAIL parameter MT-PRIORITY=<value>, an integer from -9 to 9 written
 *     as "0" or a sign (optional "+", or "-") and one non-zero digit; any
 *     other value is refused with 501 5.5.4 (RFC 6710 §4.1).
 * jsmail keeps an accepted value in the envelope extension, so it reaches
 * jsmail-send (which delivers higher priorities first when delivery slots
 * are scarce) and jsmail-remote (which gives it to a next hop that offers
 * MT-PRIORITY, and to no other: docs/jsmail-remote.md).
 *
 * Build:  cc -shared -fPIC -O2 -I include -o mt-priority.so plugins/mt-priority.c
 * Load:   echo "/var/qmail/plugins/mt-priority.so MIXER" >> control/plugins
 */
#include <stdio.h>
#include <string.h>
#include "jsmail/plugin.h"

static char ehlo_line[64];

unsigned jsmail_plugin_abi_version(void)
{
    return JSMAIL_PLUGIN_ABI_VERSION;
}

/* RFC 6710's priority-value: ( [ "+" / "-" ] NZDIGIT ) / "0". */
static int valid_priority(const char *v)
{
    if (v == NULL) return 0;
    if (v[0] == '0') return v[1] == '\0';
    if (v[0] == '+' || v[0] == '-') v++;
    return v[0] >= '1' && v[0] <= '9' && v[1] == '\0';
}

static int check_priority(void *data, const jsmail_session *s, const char *keyword, const char *value,
    jsmail_reply *reply)
{
    (void)data; (void)s; (void)keyword;
    if (valid_priority(value)) return JSMAIL_CONTINUE;
    reply->code = 501;
    snprintf(reply->enhanced, sizeof reply->enhanced, "5.5.4");
    snprintf(reply->text, sizeof reply->text, "MT-PRIORITY wants an integer from -9 to 9");
    return JSMAIL_REJECT;
}

/* A policy name is an RFC 6710 "priority-assignment-policy": letters, digits, '-' and '.', at most 32. */
static int valid_policy(const char *p)
{
    size_t n = 0;
    for (; p[n] != '\0'; n++)
        if (!((p[n] >= 'A' && p[n] <= 'Z') || (p[n] >= 'a' && p[n] <= 'z') || (p[n] >= '0' && p[n] <= '9') ||
              p[n] == '-' || p[n] == '.'))
            return 0;
    return n > 0 && n <= 32;
}

int jsmail_plugin_init(const char *args, const jsmail_registrar *r)
{
    if (r->abi_version != JSMAIL_PLUGIN_ABI_VERSION) return 1;
    if (*args != '\0' && !valid_policy(args)) return 2; /* one policy name, or nothing */
    snprintf(ehlo_line, sizeof ehlo_line, "MT-PRIORITY%s%s", *args ? " " : "", args);
    if (r->ehlo_keyword(r->host, ehlo_line) != 0) return 3;
    if (r->mail_parameter(r->host, "MT-PRIORITY", check_priority) != 0) return 4;
    return 0;
}
