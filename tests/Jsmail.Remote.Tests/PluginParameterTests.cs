using Jsmail.Common.Remote;

namespace Jsmail.Remote.Tests;

/// <summary>
/// Which MAIL parameters a plugin took in go on to a peer
/// (DeliveryParameters.OfferedPluginWords): only those whose keyword the
/// peer's EHLO offers, never one jsmail handles by its own rule.
/// </summary>
public class PluginParameterTests
{
    [Theory]
    [InlineData("MT-PRIORITY=3 X-TAG=blue", "MT-PRIORITY,PIPELINING", " MT-PRIORITY=3")]
    [InlineData("mt-priority=-2", "MT-PRIORITY", " MT-PRIORITY=-2")] // keywords are case-blind (RFC 5321 §2.4)
    [InlineData("MT-PRIORITY=3", "PIPELINING", "")]
    [InlineData("X-TAG=blue X-FLAG", "X-TAG,X-FLAG", " X-TAG=blue X-FLAG")]
    [InlineData("RET=HDRS ENVID=e1 SIZE=10 BODY=8BITMIME SMTPUTF8 REQUIRETLS AUTH=<>", "DSN,RET,ENVID,SIZE,BODY,SMTPUTF8,REQUIRETLS,AUTH", "")]
    public void A_plugins_parameter_goes_on_only_to_a_peer_offering_its_keyword(string mail, string offered, string expected)
    {
        var extensions = offered.Split(',').ToDictionary(k => k, _ => "");
        DeliveryParameters.OfferedPluginWords(DeliveryParameters.Parse(mail), extensions).Should().Be(expected);
    }

    [Fact]
    public void Remotedisable_names_the_switch()
    {
        RemoteFeatureNames.ByName("plugin-parameters").Should().Be(RemoteFeatures.PluginParameters);
        RemoteFeatures.All.HasFlag(RemoteFeatures.PluginParameters).Should().BeTrue();
    }
}
