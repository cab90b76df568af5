using System.Reflection;
using NfsGate.Data;
using NfsGate.Data.Tests.ObjectStore;

namespace NfsGate.Data.Tests.S3;

/// <summary>
/// The whole <see cref="ObjectStoreContract"/> against real S3 (Ceph RGW), each test on a fresh prefix of the run's
/// bucket. Not a plain subclass: xunit 2 cannot skip inherited facts at run time, and NFSGATE_SKIP_S3=1 must skip
/// these; so each contract test (and each InlineData row) becomes a case of one <see cref="S3TheoryAttribute"/>.
/// </summary>
[Collection(S3CephCollection.Name)]
public sealed class S3ObjectStoreContractTests(S3CephFixture s3)
{
    public static TheoryData<string, int> Cases()
    {
        var cases = new TheoryData<string, int>();
        foreach (var m in typeof(ObjectStoreContract).GetMethods(BindingFlags.Public | BindingFlags.Instance))
        {
            if (m.GetCustomAttribute<FactAttribute>() is null) continue;
            var rows = m.GetCustomAttributes<InlineDataAttribute>().ToArray();
            if (rows.Length == 0) cases.Add(m.Name, -1);
            for (int i = 0; i < rows.Length; i++) cases.Add(m.Name, i);
        }
        return cases;
    }

    [S3Theory]
    [MemberData(nameof(Cases))]
    public async Task Contract(string test, int row)
    {
        var method = typeof(ObjectStoreContract).GetMethod(test)!;
        object?[]? args = row < 0 ? null : method.GetCustomAttributes<InlineDataAttribute>().ElementAt(row).GetData(method).Single();
        var result = method.Invoke(new OnS3(s3), BindingFlags.DoNotWrapExceptions, null, args, null);
        if (result is Task task) await task;
    }

    [Fact]
    public void Every_contract_test_is_a_case()
    {
        int facts = typeof(ObjectStoreContract).GetMethods().Count(m => m.GetCustomAttribute<FactAttribute>() is not null);
        Assert.True(facts >= 10, $"only {facts} contract tests found");
        Assert.True(Cases().Count() >= facts);
    }

    // Private, so xunit does not run it as a test class of its own.
    private sealed class OnS3(S3CephFixture s3) : ObjectStoreContract
    {
        protected override IObjectStore Create() => s3.NewStore();
    }
}
