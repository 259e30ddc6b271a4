using Engine.Data;
using Engine.Evaluation;
using Engine.Training;

namespace Engine.Cli.Reporting;

/// <summary>What a report shows: the run's settings, its epochs (none for a saved model) and one evaluation.</summary>
/// <param name="Title">The page title, e.g. "engine train" or "engine report".</param>
/// <param name="Settings">Name/value pairs shown as the settings table, in order.</param>
/// <param name="Epochs">Per-epoch history; empty when the report is made from a saved model.</param>
/// <param name="Evaluation">The evaluation of the model on <paramref name="EvaluationData"/>.</param>
/// <param name="EvaluationName">What the evaluation set is, e.g. "test set (2,000 examples)".</param>
/// <param name="EvaluationData">The labelled examples that were evaluated (raw, unscaled features).</param>
/// <param name="Probabilities">The model's class probabilities for <paramref name="EvaluationData"/>, rows × <paramref name="ClassCount"/>.</param>
/// <param name="ClassCount">Outputs of the model.</param>
/// <param name="EpochSetName">The set the per-epoch evaluation ran on: "test", or "validation" (a held-out split, e.g.
/// the one early stopping watches).</param>
sealed record RunReport(
    string Title,
    IReadOnlyList<(string Name, string Value)> Settings,
    IReadOnlyList<EpochReport> Epochs,
    EvaluationResult Evaluation,
    string EvaluationName,
    Dataset EvaluationData,
    float[] Probabilities,
    int ClassCount,
    string EpochSetName = "test");

/// <summary>One wrongly classified example of the gallery.</summary>
/// <param name="Index">Row of the example in the evaluation data (0-based).</param>
/// <param name="Label">True class.</param>
/// <param name="Predicted">The class with the highest probability.</param>
/// <param name="Confidence">The probability the model gave <paramref name="Predicted"/>.</param>
/// <param name="LabelProbability">The probability the model gave the true class.</param>
readonly record struct Misclassified(int Index, int Label, int Predicted, float Confidence, float LabelProbability)
{
    /// <summary>
    /// The <paramref name="count"/> wrong predictions made with the highest confidence, most confident first
    /// (ties: lower index first). Prediction is <see cref="Classifier.ArgMax"/>, as in evaluation.
    /// </summary>
    public static Misclassified[] MostConfident(float[] probabilities, int[] labels, int classes, int count)
    {
        var wrong = new List<Misclassified>();
        for (int i = 0; i < labels.Length; i++)
        {
            ReadOnlySpan<float> p = probabilities.AsSpan(i * classes, classes);
            int best = Classifier.ArgMax(p);
            if (best != labels[i])
                wrong.Add(new Misclassified(i, labels[i], best, p[best], labels[i] < classes ? p[labels[i]] : 0f));
        }
        return wrong.OrderByDescending(m => m.Confidence).ThenBy(m => m.Index).Take(count).ToArray();
    }
}
