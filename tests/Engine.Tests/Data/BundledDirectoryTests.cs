using Engine.Data;

namespace Engine.Tests.Data;

/// <summary>Where DataSource.BundledDirectory looks: next to the application first (packages), then a checkout.</summary>
public sealed class BundledDirectoryTests : IDisposable
{
    readonly ScratchDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>Makes ROOT/data/mnist-10k; with <paramref name="complete"/> it holds a (fake) training images file.</summary>
    string MakeData(string root, bool complete = true)
    {
        string data = Path.Combine(root, "data", "mnist-10k");
        Directory.CreateDirectory(data);
        if (complete) File.WriteAllBytes(Path.Combine(data, "train-images-idx3-ubyte.gz"), [0]);
        return data;
    }

    string Sub(params string[] parts)
    {
        string path = Path.Combine([_dir.Path, .. parts]);
        Directory.CreateDirectory(path);
        return path;
    }

    [Fact]
    public void Data_next_to_the_application_wins_over_a_checkout_around_the_working_directory()
    {
        string app = Sub("tool", "tools", "net10.0", "any");
        string next = MakeData(app);
        string checkout = Sub("checkout");
        MakeData(checkout);
        Assert.Equal(next, DataSource.FindBundled(app, Sub("checkout", "src", "x")));
    }

    [Fact]
    public void Directories_above_the_application_come_before_the_working_directory()
    {
        string checkout = Sub("repo");
        string expected = MakeData(checkout);
        string other = Sub("elsewhere");
        MakeData(other);
        Assert.Equal(expected, DataSource.FindBundled(Sub("repo", "src", "bin", "Release"), other));
    }

    [Fact]
    public void A_checkout_above_the_working_directory_is_found_when_the_application_has_none()
    {
        string checkout = Sub("repo");
        string expected = MakeData(checkout);
        Assert.Equal(expected, DataSource.FindBundled(Sub("app"), Sub("repo", "a", "b")));
    }

    [Fact]
    public void An_empty_data_folder_next_to_the_application_is_passed_over()
    {
        string app = Sub("app");
        MakeData(app, complete: false);
        string checkout = Sub("repo");
        string expected = MakeData(checkout);
        Assert.Equal(expected, DataSource.FindBundled(app, checkout));
    }

    [Fact]
    public void Nothing_found_is_null()
    {
        // The scratch directory sits in the system temp directory, which has no data/mnist-10k above it.
        Assert.Null(DataSource.FindBundled(Sub("a"), Sub("b")));
    }

    [Fact]
    public void The_built_cli_finds_the_digits_copied_next_to_it()
    {
        // The CLI project copies data/mnist-10k next to engine.dll (and so into the tool package); the test
        // assembly's directory receives the same copy through the project reference.
        string next = Path.Combine(AppContext.BaseDirectory, "data", "mnist-10k");
        Assert.True(File.Exists(Path.Combine(next, "train-images-idx3-ubyte.gz")), $"{next} lacks the bundled digits");
        Assert.Equal(next, DataSource.FindBundled(AppContext.BaseDirectory, _dir.Path));
    }
}
